from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils import timezone

from careers.choices import Arrangement, Credential, Specialty, State
from careers.models import DESCRIPTION_MAX_CHARS, Job
from careers.postings import valid_through_default, valid_through_latest

PAY_CEILING = Decimal("1000000")


class JobForm(forms.ModelForm):
    specialties = forms.MultipleChoiceField(
        choices=Specialty.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    credentials_required = forms.MultipleChoiceField(
        label="Credentials required (any one of)",
        choices=Credential.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    credentials_preferred = forms.MultipleChoiceField(
        label="Credentials preferred",
        choices=Credential.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    remote_states = forms.MultipleChoiceField(
        label="For a remote job: states it may hire in (none chosen means any state)",
        choices=State.choices,
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )
    description = forms.CharField(
        label="Description (Markdown)",
        max_length=DESCRIPTION_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 14}),
        help_text="Paragraphs, lists, **bold**, *italics* and links. No images or HTML.",
    )
    valid_through = forms.DateField(
        label="Valid through",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="30 days from today by default, 90 at most.",
    )

    class Meta:
        model = Job
        fields = [
            "title",
            "employer_name",
            "employer_website",
            "employer_description",
            "city",
            "state",
            "arrangement",
            "onsite_days",
            "remote_states",
            "employment_type",
            "setting",
            "specialties",
            "credentials_required",
            "credentials_preferred",
            "experience_years",
            "pay_min",
            "pay_max",
            "pay_period",
            "description",
            "apply_url",
            "apply_email",
            "valid_through",
        ]
        labels = {
            "title": "Job title",
            "employer_name": "Employer",
            "employer_website": "Employer website",
            "employer_description": "About the employer (a short paragraph)",
            "onsite_days": "For a hybrid job: days a week on site",
            "experience_years": "Years of experience",
            "pay_min": "Pay from",
            "pay_max": "Pay up to",
            "pay_period": "Pay is",
            "apply_url": "Apply at (URL)",
            "apply_email": "or apply by email",
        }
        widgets = {"employer_description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not self.instance.pk:
            self.initial.setdefault("valid_through", valid_through_default())
        self.fields["experience_years"].widget.attrs["max"] = 40

    def clean_experience_years(self) -> int:
        years = self.cleaned_data["experience_years"]
        if years > 40:
            raise forms.ValidationError("Years of experience must be 40 or fewer.")
        return years

    def clean_valid_through(self):
        value = self.cleaned_data["valid_through"]
        today = timezone.localdate()
        if value < today:
            raise forms.ValidationError("The valid-through date cannot be in the past.")
        if value > valid_through_latest(today=today):
            raise forms.ValidationError("A job can be listed for 90 days at most.")
        return value

    def clean(self) -> dict:
        data = super().clean()
        pay_min, pay_max = data.get("pay_min"), data.get("pay_max")
        for name, value in (("pay_min", pay_min), ("pay_max", pay_max)):
            if value is not None and not (0 < value <= PAY_CEILING):
                self.add_error(name, "Enter an amount above 0 and at most 1,000,000.")
        if pay_min is not None and pay_max is not None and pay_min > pay_max:
            self.add_error("pay_min", "The lowest pay cannot be above the highest pay.")
        if (
            not data.get("apply_url")
            and not data.get("apply_email")
            and not (self.has_error("apply_url") or self.has_error("apply_email"))
        ):
            self.add_error("apply_url", "Give a URL or an email address to apply at.")
        arrangement = data.get("arrangement")
        if arrangement == Arrangement.HYBRID:
            days = data.get("onsite_days")
            if days is None or not 1 <= days <= 4:
                self.add_error("onsite_days", "For a hybrid job, give 1 to 4 days on site.")
        else:
            data["onsite_days"] = None
        if arrangement != Arrangement.REMOTE:
            data["remote_states"] = []
        return data


class RejectForm(forms.Form):
    reason = forms.CharField(
        label="Reason (emailed to the poster)",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
