"""Code systems, their group trees, codes, and the coding knowledge around each code."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db import connection, models
from django.db.models import Q
from django.db.models.expressions import RawSQL
from django.db.models.functions import Upper
from django.urls import reverse
from django.utils import timezone

from codes.normalize import SYSTEMS

# --- Code systems and their trees -------------------------------------------------------------


class CodeSystem(models.Model):
    slug = models.SlugField(max_length=16, unique=True, choices=[(s, s) for s in SYSTEMS])
    name = models.CharField(max_length=200)
    short_name = models.CharField(max_length=20)
    publisher = models.CharField(max_length=200)
    edition = models.CharField(max_length=40, blank=True)
    copyright = models.TextField(help_text="Shown under every official descriptor of this system.")
    description = models.TextField(blank=True)
    sort = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["sort", "slug"]

    def __str__(self) -> str:
        return self.short_name

    @property
    def url_prefix(self) -> str:
        return SYSTEMS[self.slug].url_prefix

    def get_absolute_url(self) -> str:
        return reverse("codes:system_detail", kwargs={"system": self.url_prefix})


ANCESTORS_SQL = """
WITH RECURSIVE chain AS (
    SELECT g.*, 0 AS hops FROM codes_codegroup g WHERE g.id = %s
    UNION ALL
    SELECT p.*, chain.hops + 1 FROM codes_codegroup p JOIN chain ON p.id = chain.parent_id
)
SELECT * FROM chain ORDER BY hops DESC
"""


class CodeGroupQuerySet(models.QuerySet):
    def roots(self) -> CodeGroupQuerySet:
        return self.filter(parent__isnull=True)

    def chain_to(self, group_id: int) -> list[CodeGroup]:
        """A group and its ancestors, root first, linked so `lineage()` needs no query."""
        chain = list(self.model.objects.raw(ANCESTORS_SQL, [group_id]))
        for parent, child in zip(chain, chain[1:], strict=False):
            child.parent = parent
        return chain


class CodeGroup(models.Model):
    """A node of a system's tree: section › subsection › heading › range (or ICD chapter ›
    block › category)."""

    class Kind(models.TextChoices):
        CHAPTER = "chapter", "Chapter"
        SECTION = "section", "Section"
        SUBSECTION = "subsection", "Subsection"
        HEADING = "heading", "Heading"
        SUBHEADING = "subheading", "Subheading"
        RANGE = "range", "Range"
        CATEGORY = "category", "Category"

    system = models.ForeignKey(CodeSystem, on_delete=models.CASCADE, related_name="groups")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children"
    )
    slug = models.SlugField(max_length=120)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    title = models.CharField(max_length=500)
    code_from = models.CharField(max_length=10, blank=True)
    code_to = models.CharField(max_length=10, blank=True)
    sort_key = models.CharField(max_length=40, blank=True, db_index=True)
    depth = models.PositiveSmallIntegerField(default=0)
    notes = models.JSONField(default=dict, blank=True, help_text="Includes / excludes notes.")

    objects = CodeGroupQuerySet.as_manager()

    class Meta:
        ordering = ["system", "sort_key", "title"]
        constraints = [
            models.UniqueConstraint(fields=["system", "slug"], name="codegroup_unique_slug")
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.range_label})" if self.range_label else self.title

    @property
    def range_label(self) -> str:
        if self.code_from and self.code_to and self.code_from != self.code_to:
            return f"{self.code_from}–{self.code_to}"
        return self.code_from

    def get_absolute_url(self) -> str:
        return reverse(
            "codes:group_detail",
            kwargs={"system": SYSTEMS[self.system.slug].url_prefix, "slug": self.slug},
        )

    def lineage(self) -> list[CodeGroup]:
        """Root-first ancestors including self; free when the parents were select_related."""
        chain: list[CodeGroup] = []
        node: CodeGroup | None = self
        while node is not None:
            chain.append(node)
            node = node.parent
        return chain[::-1]


# --- Codes ------------------------------------------------------------------------------------


class CodeQuerySet(models.QuerySet):
    def active(self) -> CodeQuerySet:
        return self.filter(status=Code.Status.ACTIVE)

    def in_system(self, slug: str) -> CodeQuerySet:
        return self.filter(system__slug=slug)

    def for_page(self) -> CodeQuerySet:
        # The search vector is for the database's eyes only: never ship it to Python. The
        # group's ancestors come from CodeGroup.objects.chain_to(): one short recursive query
        # costs less than joining six levels of the tree here.
        return self.select_related("system", "group").defer("search_vector")


class Code(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        DELETED = "deleted", "Deleted"

    system = models.ForeignKey(CodeSystem, on_delete=models.PROTECT, related_name="codes")
    code = models.CharField(max_length=10, help_text="Canonical spelling, e.g. 64494 or M54.50.")
    key = models.CharField(max_length=10, editable=False, help_text="Upper case, no dot.")
    short_descriptor = models.CharField(max_length=200)
    medium_descriptor = models.CharField(max_length=400, blank=True)
    long_descriptor = models.TextField(blank=True, help_text="The official descriptor.")
    consumer_descriptor = models.TextField(blank=True)
    plain_language = models.TextField(
        blank=True,
        help_text="Our plain-language description. Paragraphs separated by a blank line.",
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    effective_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)
    group = models.ForeignKey(
        CodeGroup, null=True, blank=True, on_delete=models.SET_NULL, related_name="codes"
    )
    action_code = models.CharField(
        max_length=1,
        blank=True,
        help_text="HCPCS action code of the latest release: A added, B/C/S descriptor changed, "
        "D discontinued, F/P/T administrative or payment change, N none, R reactivated.",
    )
    action_date = models.DateField(
        null=True, blank=True, help_text="Effective date of that action."
    )
    is_addon = models.BooleanField("add-on code", default=False)
    is_billable = models.BooleanField(default=True)
    primary_codes = models.ManyToManyField(
        "self",
        symmetrical=False,
        blank=True,
        related_name="addon_codes",
        help_text="For an add-on code: the primary codes it is reported with.",
    )
    notes = models.JSONField(default=dict, blank=True, help_text="Includes / excludes notes.")
    search_vector = models.GeneratedField(
        expression=SearchVector("short_descriptor", weight="A", config="english")
        + SearchVector("medium_descriptor", "long_descriptor", weight="B", config="english")
        + SearchVector("consumer_descriptor", "plain_language", weight="C", config="english"),
        output_field=SearchVectorField(),
        db_persist=True,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CodeQuerySet.as_manager()

    class Meta:
        ordering = ["system", "key"]
        constraints = [
            models.UniqueConstraint(fields=["system", "key"], name="code_unique_key"),
        ]
        indexes = [
            models.Index(fields=["system", "key"], name="code_system_key"),
            models.Index(fields=["group", "key"], name="code_group_key"),
            models.Index(Upper("key"), name="code_key_upper"),
            GinIndex(fields=["search_vector"], name="code_search_vector"),
            GinIndex(
                OpClass(Upper("short_descriptor"), name="gin_trgm_ops"), name="code_short_trgm"
            ),
            GinIndex(OpClass("key", name="gin_trgm_ops"), name="code_key_trgm"),
        ]

    def __str__(self) -> str:
        return f"{self.system.short_name} {self.code}"

    def save(self, *args, **kwargs) -> None:
        self.key = self.code.replace(".", "").upper()
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse(
            "codes:code_detail",
            kwargs={"system": SYSTEMS[self.system.slug].url_prefix, "code": self.code},
        )

    @property
    def official_descriptor(self) -> str:
        return self.long_descriptor or self.medium_descriptor or self.short_descriptor

    @property
    def is_deleted(self) -> bool:
        return self.status == self.Status.DELETED

    def plain_paragraphs(self) -> list[str]:
        return [p.strip() for p in self.plain_language.split("\n\n") if p.strip()]

    def first_sentence(self) -> str:
        """A one-line snippet of our own text, safe to show to anyone (search, meta)."""
        text = " ".join(self.plain_language.split())
        if not text:
            return ""
        end = text.find(". ")
        sentence = text if end == -1 else text[: end + 1]
        if len(sentence) <= 220:
            return sentence
        return sentence[:218].rsplit(" ", 1)[0].rstrip(",;:") + "…"


# --- The knowledge around a code ----------------------------------------------------------------


class Modifier(models.Model):
    code = models.CharField(max_length=2, unique=True)
    short_descriptor = models.CharField(max_length=200)
    long_descriptor = models.TextField(blank=True)
    note = models.TextField(blank=True, help_text="Our explanation of when coders use it.")
    status = models.CharField(
        max_length=10, choices=Code.Status.choices, default=Code.Status.ACTIVE
    )
    effective_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} — {self.short_descriptor}"

    def get_absolute_url(self) -> str:
        return reverse("codes:modifier_detail", kwargs={"modifier": self.code})


class CodeModifier(models.Model):
    code = models.ForeignKey(Code, on_delete=models.CASCADE, related_name="modifier_links")
    modifier = models.ForeignKey(Modifier, on_delete=models.CASCADE, related_name="code_links")
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["modifier__code"]
        constraints = [
            models.UniqueConstraint(fields=["code", "modifier"], name="codemodifier_unique")
        ]

    def __str__(self) -> str:
        return f"{self.code.code} + {self.modifier.code}"


class Guideline(models.Model):
    """Editor-written guidance attached to one code or to a whole group (range, heading)."""

    code = models.ForeignKey(
        Code, null=True, blank=True, on_delete=models.CASCADE, related_name="guidelines"
    )
    group = models.ForeignKey(
        CodeGroup, null=True, blank=True, on_delete=models.CASCADE, related_name="guidelines"
    )
    title = models.CharField(max_length=200)
    body = models.TextField()
    sort = models.PositiveSmallIntegerField(default=100)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["sort", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(code__isnull=False) | Q(group__isnull=False),
                name="guideline_has_code_or_group",
            )
        ]

    def __str__(self) -> str:
        return self.title


class CrosswalkLink(models.Model):
    """A diagnosis that commonly supports a procedure code."""

    code = models.ForeignKey(Code, on_delete=models.CASCADE, related_name="crosswalk_links")
    diagnosis = models.ForeignKey(
        Code,
        on_delete=models.CASCADE,
        related_name="supported_procedures",
        limit_choices_to={"system__slug": "icd10cm"},
    )
    group_label = models.CharField(max_length=120, blank=True)
    note = models.TextField(blank=True)
    sort = models.PositiveSmallIntegerField(default=100)

    class Meta:
        ordering = ["group_label", "sort", "diagnosis__key"]
        constraints = [
            models.UniqueConstraint(fields=["code", "diagnosis"], name="crosswalk_unique")
        ]

    def __str__(self) -> str:
        return f"{self.code.code} ← {self.diagnosis.code}"


class AsOfQuerySet(models.QuerySet):
    def as_of(self, day: datetime.date) -> AsOfQuerySet:
        """Rows in force on a date of service."""
        return self.filter(
            Q(effective_date__isnull=True) | Q(effective_date__lte=day),
            Q(deletion_date__isnull=True) | Q(deletion_date__gte=day),
        )

    def with_editions(self) -> AsOfQuerySet:
        """Rows with their edition loaded, so `row.edition_label` costs no query."""
        return self.select_related("edition")


class EditEdition(models.Model):
    """One quarterly release of CMS edits for one setting: NCCI PTP version 30.1 for
    practitioners, effective 2024-04-01; the MUE values of 2024 Q2. Each release is a complete
    picture, so the latest one in effect on a date of service is the one that applies."""

    class Kind(models.TextChoices):
        NCCI_PTP = "ncci-ptp", "NCCI PTP"
        MUE = "mue", "MUE"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    setting = models.CharField(max_length=16, help_text="practitioner, hospital or dme")
    version = models.CharField(max_length=20, help_text="30.1 for NCCI, 2024 Q2 for MUE")
    effective_date = models.DateField()
    label = models.CharField(max_length=120, editable=False)
    source = models.CharField(max_length=500, blank=True, help_text="The files it came from.")
    # A checksum of the edits as last imported: importing the same lines again is then known
    # to change nothing without comparing millions of rows.
    digest = models.CharField(max_length=64, blank=True, editable=False)

    class Meta:
        ordering = ["kind", "setting", "-effective_date"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "setting", "version"], name="edit_edition_unique"
            )
        ]

    def __str__(self) -> str:
        return self.label

    def save(self, *args: object, **kwargs: object) -> None:
        self.label = self.make_label()
        super().save(*args, **kwargs)

    def make_label(self) -> str:
        """ "NCCI PTP v30.1, effective 2024-04-01" — how every row from it is cited."""
        version = f"v{self.version}" if self.kind == self.Kind.NCCI_PTP else self.version
        kind = self.Kind(self.kind).label if self.kind in self.Kind.values else self.kind
        return f"{kind} {version}, effective {self.effective_date.isoformat()}"


class NcciEditQuerySet(AsOfQuerySet):
    def as_of(self, day: datetime.date) -> NcciEditQuerySet:
        """Exactly the edits in force on a date of service: those of the edition that governs
        the date (rows an editor added have none and count by their dates alone), started by
        then (a row without its own effective date from its edition's start) and not deleted
        before it.

        The editions are chosen by two short hand-written subqueries: the claim check runs
        this for every pair of codes, and composing the same with Exists() and OuterRef()
        cost several times the query's own run time to compile."""
        editions = connection.ops.quote_name(EditEdition._meta.db_table)
        applying = RawSQL(EDITIONS_APPLYING.format(table=editions), [day, day])
        started = RawSQL(f"SELECT id FROM {editions} WHERE effective_date <= %s", [day])
        return self.filter(
            Q(edition__isnull=True) | Q(edition_id__in=applying),
            Q(effective_date__lte=day)
            | Q(effective_date__isnull=True)
            & (Q(edition__isnull=True) | Q(edition_id__in=started)),
            Q(deletion_date__isnull=True) | Q(deletion_date__gte=day),
        )


# For each setting, the NCCI edition that governs a date of service: the latest one in effect
# by then; before the first edition, the first one (its edits with their own earlier effective
# dates are known to apply; one without a date of its own counts from the edition's start).
EDITIONS_APPLYING = """
    SELECT e.id FROM {table} AS e WHERE e.kind = 'ncci-ptp'
    AND NOT EXISTS (
        SELECT 1 FROM {table} AS later WHERE later.kind = e.kind AND later.setting = e.setting
        AND later.effective_date > e.effective_date AND later.effective_date <= %s)
    AND (e.effective_date <= %s OR NOT EXISTS (
        SELECT 1 FROM {table} AS earlier WHERE earlier.kind = e.kind
        AND earlier.setting = e.setting AND earlier.effective_date < e.effective_date))
"""


class NcciEdit(models.Model):
    """A CMS NCCI procedure-to-procedure edit: column 2 is not paid with column 1 unless the
    modifier indicator allows a modifier to bypass it. Each edition's rows are kept whole."""

    class Indicator(models.TextChoices):
        NOT_ALLOWED = "0", "0 — no modifier allowed"
        ALLOWED = "1", "1 — modifier allowed"
        NOT_APPLICABLE = "9", "9 — not applicable"

    class Setting(models.TextChoices):
        PRACTITIONER = "practitioner", "Practitioner"
        HOSPITAL = "hospital", "Outpatient hospital"

    edition = models.ForeignKey(
        EditEdition,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        db_index=False,  # ncci_unique covers look-ups; one index less to fill per edition
        related_name="ncci_edits",
        help_text="The release it came from; empty for an edit entered by hand.",
    )
    column1 = models.CharField(max_length=10)
    column2 = models.CharField(max_length=10, db_index=True)
    prior_1996 = models.BooleanField(default=False)
    effective_date = models.DateField(
        null=True, blank=True, help_text="Empty when the file does not say: from the edition's."
    )
    deletion_date = models.DateField(null=True, blank=True)
    modifier_indicator = models.CharField(max_length=1, choices=Indicator.choices)
    rationale = models.CharField(max_length=200, blank=True)
    setting = models.CharField(max_length=16, choices=Setting.choices, default=Setting.PRACTITIONER)

    objects = NcciEditQuerySet.as_manager()

    class Meta:
        ordering = ["column1", "column2", "effective_date"]
        constraints = [
            # Leading with column1, it also serves look-ups by column 1 code. The deletion date
            # is part of it because a copy without effective dates lists a pair once for each
            # period it was in force.
            models.UniqueConstraint(
                fields=[
                    "column1",
                    "column2",
                    "effective_date",
                    "deletion_date",
                    "setting",
                    "edition",
                ],
                name="ncci_unique",
                nulls_distinct=False,
            )
        ]

    def __str__(self) -> str:
        return f"{self.column1} / {self.column2}"

    @property
    def edition_label(self) -> str:
        """ "NCCI PTP v30.1, effective 2024-04-01"; load with `with_editions()`."""
        return self.edition.label if self.edition_id else ""


class MueValue(models.Model):
    class Adjudication(models.IntegerChoices):
        LINE = 1, "1 — Line Edit"
        POLICY = 2, "2 — Date of Service Edit: Policy"
        CLINICAL = 3, "3 — Date of Service Edit: Clinical"

    class Service(models.TextChoices):
        PRACTITIONER = "practitioner", "Practitioner"
        HOSPITAL = "hospital", "Outpatient hospital"
        DME = "dme", "DME supplier"

    edition = models.ForeignKey(
        EditEdition,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="mue_values",
        help_text="The latest release that lists this value; empty for one entered by hand.",
    )
    code = models.CharField(max_length=10, db_index=True)
    service = models.CharField(max_length=16, choices=Service.choices, default=Service.PRACTITIONER)
    value = models.PositiveIntegerField()
    adjudication = models.PositiveSmallIntegerField(choices=Adjudication.choices)
    rationale = models.CharField(max_length=200, blank=True)
    effective_date = models.DateField(null=True, blank=True)
    deletion_date = models.DateField(null=True, blank=True)

    objects = AsOfQuerySet.as_manager()

    class Meta:
        ordering = ["code", "service", "-effective_date"]
        constraints = [
            models.UniqueConstraint(
                fields=["code", "service", "effective_date"],
                name="mue_unique",
                nulls_distinct=False,
            )
        ]

    def __str__(self) -> str:
        return f"MUE {self.code}: {self.value}"

    @property
    def edition_label(self) -> str:
        """ "MUE 2024 Q2, effective 2024-04-01"; load with `with_editions()`."""
        return self.edition.label if self.edition_id else ""


CENTS = Decimal("0.01")


class RvuLine(models.Model):
    """One line of the Medicare Physician Fee Schedule relative value file (PPRRVU)."""

    code = models.CharField(max_length=10, db_index=True)
    modifier = models.CharField(max_length=4, blank=True)
    edition = models.CharField(max_length=20, help_text="Release, e.g. 2023-JAN.")
    year = models.PositiveSmallIntegerField()
    description = models.CharField(max_length=200, blank=True)
    status_code = models.CharField(max_length=2, blank=True)
    work_rvu = models.DecimalField(max_digits=8, decimal_places=2, default=0)
    nonfacility_pe_rvu = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    facility_pe_rvu = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    mp_rvu = models.DecimalField(max_digits=8, decimal_places=2, default=0)
    nonfacility_total = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    facility_total = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    pctc_indicator = models.CharField(max_length=1, blank=True)
    global_days = models.CharField(max_length=3, blank=True)
    mult_proc = models.CharField(max_length=1, blank=True)
    bilat_surg = models.CharField(max_length=1, blank=True)
    asst_surg = models.CharField(max_length=1, blank=True)
    co_surg = models.CharField(max_length=1, blank=True)
    team_surg = models.CharField(max_length=1, blank=True)
    conversion_factor = models.DecimalField(max_digits=9, decimal_places=4)
    extra = models.JSONField(default=dict, blank=True, help_text="Other columns of the file.")

    class Meta:
        ordering = ["code", "modifier", "-year"]
        constraints = [
            models.UniqueConstraint(fields=["code", "modifier", "edition"], name="rvu_unique")
        ]

    def __str__(self) -> str:
        return f"{self.code}{'-' + self.modifier if self.modifier else ''} ({self.edition})"

    def payment(self, total: Decimal | None) -> Decimal | None:
        if total is None:
            return None
        return (total * self.conversion_factor).quantize(CENTS, rounding=ROUND_HALF_UP)

    @property
    def nonfacility_payment(self) -> Decimal | None:
        return self.payment(self.nonfacility_total)

    @property
    def facility_payment(self) -> Decimal | None:
        return self.payment(self.facility_total)


class LocalityQuerySet(models.QuerySet):
    def matching(self, text: str) -> LocalityQuerySet:
        """Localities whose state, name, fee schedule area or counties contain every word."""
        found = self
        for word in text.split()[:8]:
            found = found.filter(
                Q(state__iexact=word)
                | Q(state_name__icontains=word)
                | Q(name__icontains=word)
                | Q(area__icontains=word)
                | Q(counties__icontains=word)
            )
        return found


class Locality(models.Model):
    """A Medicare payment locality: a MAC's locality number, the area it covers and, through
    its GPCIs, what a service costs there relative to the nation."""

    mac = models.CharField("MAC", max_length=5, help_text="Medicare Administrative Contractor.")
    number = models.CharField(max_length=2, help_text="Locality number within the MAC, e.g. 01.")
    state = models.CharField(max_length=2, blank=True, help_text="Postal abbreviation.")
    state_name = models.CharField(max_length=60, blank=True)
    name = models.CharField(max_length=200, help_text="The locality name in Addendum E.")
    area = models.CharField("fee schedule area", max_length=200, blank=True)
    counties = models.TextField(blank=True)

    objects = LocalityQuerySet.as_manager()

    class Meta:
        ordering = ["state", "name", "mac", "number"]
        verbose_name_plural = "localities"
        constraints = [
            models.UniqueConstraint(fields=["mac", "number"], name="locality_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.label} ({self.key})"

    @property
    def key(self) -> str:
        """What `?locality=` and the picker carry: MAC and locality number, `13202-01`."""
        return f"{self.mac}-{self.number}"

    @property
    def label(self) -> str:
        return f"{self.state} — {self.name}" if self.state else self.name

    @classmethod
    def parse_key(cls, raw: str | None) -> tuple[str, str] | None:
        """(MAC, number) from a `13202-01` key; None for anything else."""
        if not raw or len(raw) != 8 or raw[5] != "-":
            return None
        mac, number = raw[:5], raw[6:]
        if not (mac.isascii() and mac.isdigit() and number.isascii() and number.isdigit()):
            return None
        return mac, number


class Gpci(models.Model):
    """One year's geographic practice cost indices for a locality (CMS Addendum E)."""

    locality = models.ForeignKey(Locality, on_delete=models.CASCADE, related_name="gpcis")
    year = models.PositiveSmallIntegerField()
    work = models.DecimalField("work GPCI", max_digits=6, decimal_places=3)
    pe = models.DecimalField("practice expense GPCI", max_digits=6, decimal_places=3)
    mp = models.DecimalField("malpractice GPCI", max_digits=6, decimal_places=3)
    edition = models.CharField(max_length=60, help_text="The file it came from.")
    notes = models.JSONField(default=list, blank=True, help_text="The file's footnotes for it.")

    class Meta:
        ordering = ["locality", "-year"]
        verbose_name = "GPCI"
        verbose_name_plural = "GPCIs"
        constraints = [models.UniqueConstraint(fields=["locality", "year"], name="gpci_unique")]

    def __str__(self) -> str:
        return f"{self.locality.key} {self.year}: {self.work}/{self.pe}/{self.mp}"


class CoverageReference(models.Model):
    class Kind(models.TextChoices):
        NCD = "NCD", "National Coverage Determination"
        LCD = "LCD", "Local Coverage Determination"
        ARTICLE = "article", "Billing and coding article"

    code = models.ForeignKey(Code, on_delete=models.CASCADE, related_name="coverage")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    number = models.CharField(max_length=20)
    title = models.CharField(max_length=300)
    contractor = models.CharField(max_length=200, blank=True)
    effective_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)
    url = models.URLField(blank=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["kind", "number"]
        constraints = [
            models.UniqueConstraint(fields=["code", "kind", "number"], name="coverage_unique")
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.number}"


class CodeHistory(models.Model):
    class Action(models.TextChoices):
        ADDED = "added", "Added"
        REVISED = "revised", "Revised"
        DELETED = "deleted", "Deleted"

    code = models.ForeignKey(Code, on_delete=models.CASCADE, related_name="history")
    year = models.PositiveSmallIntegerField()
    date = models.DateField(null=True, blank=True)
    action = models.CharField(max_length=10, choices=Action.choices)
    note = models.TextField(blank=True)
    source = models.CharField(max_length=40, blank=True, help_text="Import format or 'editor'.")

    class Meta:
        ordering = ["-year", "-date", "id"]
        verbose_name_plural = "code history"
        constraints = [
            models.UniqueConstraint(
                fields=["code", "year", "action", "source"], name="codehistory_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.code.code} {self.action} {self.year}"


class RelatedCode(models.Model):
    """A 'see also' link an editor sets."""

    code = models.ForeignKey(Code, on_delete=models.CASCADE, related_name="see_also")
    related = models.ForeignKey(Code, on_delete=models.CASCADE, related_name="+")
    note = models.CharField(max_length=300, blank=True)
    sort = models.PositiveSmallIntegerField(default=100)

    class Meta:
        ordering = ["sort", "related__key"]
        constraints = [
            models.UniqueConstraint(fields=["code", "related"], name="relatedcode_unique")
        ]

    def __str__(self) -> str:
        return f"{self.code.code} → {self.related.code}"


class SearchSynonym(models.Model):
    """An abbreviation coders type and the words it stands for ("inj" → "injection")."""

    term = models.CharField(max_length=40, unique=True)
    expansion = models.CharField(max_length=200)

    class Meta:
        ordering = ["term"]

    def __str__(self) -> str:
        return f"{self.term} → {self.expansion}"

    def save(self, *args, **kwargs) -> None:
        self.term = self.term.strip().lower()
        super().save(*args, **kwargs)


# --- Editorial history and imports -------------------------------------------------------------


class Revision(models.Model):
    """One edit of one text field by an editor: the text before and after, who and when."""

    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
    object_id = models.PositiveBigIntegerField()
    target = GenericForeignKey("content_type", "object_id")
    field = models.CharField(max_length=60)
    old_value = models.TextField(blank=True)
    new_value = models.TextField(blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["content_type", "object_id"], name="revision_target")]

    def __str__(self) -> str:
        return f"{self.field} changed {self.created_at:%Y-%m-%d %H:%M}"


class ImportRun(models.Model):
    """A record of one `import_codes` run over one file."""

    format = models.CharField(max_length=30)
    filename = models.CharField(max_length=500)
    sha256 = models.CharField(max_length=64)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    added = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    deleted = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    warnings = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.format} {self.filename}"


# --- What an import changed, per code ------------------------------------------------------------


class CodeChangeQuerySet(models.QuerySet):
    def for_codes(self, codes: Iterable[tuple[str, str]]) -> CodeChangeQuerySet:
        """The changes of these codes ((system slug, canonical code) pairs), and ICD-10-CM
        codes added or retired in the 3-character categories of the ICD-10-CM ones: a coder
        who bills M54.50 wants to hear of a new M54 code."""
        by_system: dict[str, set[str]] = {}
        for system, code in codes:
            by_system.setdefault(system, set()).add(code)
        if not by_system:
            return self.none()
        wanted = Q()
        for system, found in by_system.items():
            wanted |= Q(system=system, code__in=sorted(found))
        categories = sorted({code[:3] for code in by_system.get("icd10cm", ())})
        if categories:
            watched = Q()
            for category in categories:
                watched |= Q(code__startswith=category)
            wanted |= Q(system="icd10cm", kind__in=CodeChange.ICD_KINDS) & watched
        return self.filter(wanted)

    def newest_first(self) -> CodeChangeQuerySet:
        return self.order_by("-run__started_at", "-run_id", "system", "code", "kind", "id")


class CodeChange(models.Model):
    """One change an import made to what a code's page says, between two editions: a
    descriptor, an NCCI pair, an MUE, the RVUs and payment, an ICD-10-CM code added or
    retired. Written only by the importers, through codes/changes.py."""

    class Kind(models.TextChoices):
        DESCRIPTOR_ADDED = "descriptor-added", "Code added"
        DESCRIPTOR_DELETED = "descriptor-deleted", "Code deleted"
        DESCRIPTOR_REVISED = "descriptor-revised", "Descriptor revised"
        NCCI_ADDED = "ncci-added", "NCCI edit added"
        NCCI_DELETED = "ncci-deleted", "NCCI edit deleted"
        NCCI_INDICATOR = "ncci-indicator", "NCCI modifier indicator changed"
        MUE_CHANGED = "mue-changed", "MUE changed"
        RVU_CHANGED = "rvu-changed", "RVUs and payment changed"
        ICD_ADDED = "icd-added", "ICD-10-CM code added"
        ICD_RETIRED = "icd-retired", "ICD-10-CM code retired"

    ICD_KINDS = (Kind.ICD_ADDED, Kind.ICD_RETIRED)
    NCCI_KINDS = (Kind.NCCI_ADDED, Kind.NCCI_DELETED, Kind.NCCI_INDICATOR)

    run = models.ForeignKey(ImportRun, on_delete=models.CASCADE, related_name="changes")
    system = models.CharField(max_length=16, choices=[(s, s) for s in SYSTEMS])
    code = models.CharField(max_length=10, help_text="Canonical spelling, e.g. 64494 or M54.50.")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    other_code = models.CharField(
        max_length=10, blank=True, help_text="NCCI: the code in the pair's other column."
    )
    column = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="NCCI: the column this code is in (1 or 2)."
    )
    field = models.CharField(
        max_length=40, blank=True, help_text="What changed: a descriptor, a PFS line's modifier."
    )
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    percent = models.DecimalField(
        max_digits=9,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="RVUs and payment: the change of the national payment, in percent.",
    )
    edition_before = models.CharField(max_length=120, blank=True)
    edition_after = models.CharField(max_length=120)
    effective_before = models.DateField(null=True, blank=True)
    effective_after = models.DateField(null=True, blank=True)

    objects = CodeChangeQuerySet.as_manager()

    class Meta:
        ordering = ["-run_id", "system", "code", "kind", "id"]
        indexes = [models.Index(fields=["system", "code"], name="codechange_code")]

    def __str__(self) -> str:
        return f"{self.code}: {self.get_kind_display()} ({self.edition_after})"

    @property
    def url_prefix(self) -> str:
        return SYSTEMS[self.system].url_prefix

    def page_url(self, day: datetime.date | None) -> str:
        """The code's page as of a date of service (its `?dos=`)."""
        path = reverse("codes:code_detail", kwargs={"system": self.url_prefix, "code": self.code})
        return f"{path}?dos={day.isoformat()}" if day else path
