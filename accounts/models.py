"""Accounts, plans, and the rows metering counts in (rules: accounts/quota.py)."""

from __future__ import annotations

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.contrib.postgres.fields import ArrayField
from django.db import connections, models, router
from django.utils import timezone


class Plan(models.Model):
    """A paid plan. An account without a plan is a free account (allowance in settings)."""

    slug = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=100)
    views_per_period = models.PositiveIntegerField(
        null=True, blank=True, help_text="Code pages per period; empty means unlimited."
    )
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_unlimited(self) -> bool:
        return self.views_per_period is None


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def get_queryset(self) -> models.QuerySet[User]:
        # The plan decides the allowance on every metered page: load it with the user.
        return super().get_queryset().select_related("plan")

    def get(self, *args: object, **kwargs: object) -> User:
        """`User.objects.get(pk=…)` is one SELECT written out; any other look-up is the ORM's.

        Every signed-in request loads its account this way (django.contrib.auth's backends
        call `_default_manager.get(pk=…)`), and the ORM takes several times longer to build
        that one-row SELECT, with its plan, than Postgres takes to answer it."""
        if args or kwargs.keys() != {"pk"}:
            return super().get(*args, **kwargs)
        return self._by_pk(kwargs["pk"])

    def _by_pk(self, pk: object) -> User:
        model = self.model
        pk = model._meta.pk.to_python(pk)
        db = self._db or router.db_for_read(model)
        user_fields = model._meta.concrete_fields
        plan_fields = Plan._meta.concrete_fields
        quote = connections[db].ops.quote_name
        columns = [f"u.{quote(f.column)}" for f in user_fields]
        columns += [f"p.{quote(f.column)}" for f in plan_fields]
        sql = (
            f"SELECT {', '.join(columns)} FROM {quote(model._meta.db_table)} u "
            f"LEFT JOIN {quote(Plan._meta.db_table)} p ON p.id = u.plan_id WHERE u.id = %s"
        )
        with connections[db].cursor() as cursor:
            cursor.execute(sql, [pk])
            row = cursor.fetchone()
        if row is None:
            raise model.DoesNotExist(f"{model._meta.object_name} matching query does not exist.")
        split = len(user_fields)
        user = model.from_db(db, [f.attname for f in user_fields], row[:split])
        plan = None
        if user.plan_id is not None:
            plan = Plan.from_db(db, [f.attname for f in plan_fields], row[split:])
        model.plan.field.set_cached_value(user, plan)
        return user

    def _create(self, email: str, password: str | None, **extra: object) -> User:
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: object) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: object) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        extra.setdefault("email_verified", True)
        return self._create(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    email = models.EmailField(unique=True)
    name = models.CharField(max_length=150, blank=True)
    is_staff = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)
    plan = models.ForeignKey(
        Plan,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="users",
        help_text="Empty for a free account.",
    )
    bonus_views = models.PositiveIntegerField(
        default=0, help_text="Extra code pages per period granted to this account."
    )
    email_verified = models.BooleanField(
        default=False, help_text="Kept in step with allauth's verified email addresses."
    )
    payment_locality = models.ForeignKey(
        "codes.Locality",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The Medicare locality the code pages price services in; empty for national.",
    )

    change_digest = models.BooleanField(
        default=True,
        help_text="A weekly email of what new editions changed for the account's favourites.",
    )

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        ordering = ["email"]

    def __str__(self) -> str:
        return self.email

    def get_full_name(self) -> str:
        return self.name or self.email

    def get_short_name(self) -> str:
        return self.name or self.email.split("@")[0]


class Meter(models.Model):
    """How many units of one allowance (code pages, claim checks, …) one viewer used in one
    period.

    `subject` is "u:<user id>" for an account and "g:<guest key>" for a guest session;
    `resource` names the allowance (accounts/quota.py, RESOURCES).
    """

    subject = models.CharField(max_length=80)
    resource = models.CharField(max_length=30, db_default="pages")
    period_start = models.DateField()
    used = models.PositiveIntegerField(default=0)
    user = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.CASCADE, related_name="meters"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-period_start", "subject"]
        constraints = [
            models.UniqueConstraint(
                fields=["subject", "resource", "period_start"], name="meter_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subject} {self.resource} {self.period_start}: {self.used}"


class Unlock(models.Model):
    """A code page a viewer unlocked in a period; re-opening it in that period is free."""

    subject = models.CharField(max_length=80)
    period_start = models.DateField()
    code = models.ForeignKey("codes.Code", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.CASCADE, related_name="unlocks"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["subject", "period_start", "code"], name="unlock_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subject} {self.code_id}"


class GuestAddressUse(models.Model):
    """Guest unlocks per client address per day: the cap on scripted cookie clearing."""

    address = models.GenericIPAddressField()
    day = models.DateField()
    unlocks = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["address", "day"], name="guestaddress_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.address} {self.day}: {self.unlocks}"


class MyCodeQuerySet(models.QuerySet["MyCode"]):
    def favourites(self) -> MyCodeQuerySet:
        return self.filter(starred=True).order_by("position", "pk")

    def with_note(self) -> MyCodeQuerySet:
        return self.exclude(note="")


class MyCode(models.Model):
    """One code an account keeps: starred as a favourite (with its tags and place in the
    list), a private note, or both.

    Favourite and note share a row so that a code page learns both in one query. A row that
    is neither starred nor noted is deleted (rules: accounts/mycodes.py).
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="my_codes")
    code = models.ForeignKey("codes.Code", on_delete=models.CASCADE, related_name="+")
    starred = models.BooleanField(default=False)
    position = models.PositiveIntegerField(default=0, help_text="Order in the favourites list.")
    tags = ArrayField(models.CharField(max_length=40), default=list, blank=True)
    note = models.TextField(blank=True, help_text="Private to the account; plain text.")
    note_updated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = MyCodeQuerySet.as_manager()

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = "my code"
        constraints = [
            models.UniqueConstraint(fields=["user", "code"], name="mycode_unique"),
        ]
        indexes = [models.Index(fields=["user", "starred", "position"], name="mycode_list")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.code_id}"


class ChangeDigest(models.Model):
    """The change feed's email for one account in one period: claimed by inserting this row
    (unique per account and period start), so two runs at once send it once. `through_change`
    is the last change it covered; the next digest starts after it."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="change_digests")
    period_start = models.DateField()
    through_change = models.BigIntegerField(help_text="The id of the last change it covered.")
    changes = models.PositiveIntegerField(default=0)
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-period_start"]
        constraints = [
            models.UniqueConstraint(fields=["user", "period_start"], name="changedigest_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.period_start}"
