from __future__ import annotations

import datetime

from django import forms
from django.utils import timezone

from consult.models import Consultation

MAX_QUESTION = 5000
MAX_ANSWER = 10000


class AskForm(forms.Form):
    # A fresh token is rendered with every blank form; posting the same form twice (a double
    # click, a resend) carries the same token and finds the first consultation.
    token = forms.UUIDField(widget=forms.HiddenInput)
    subject = forms.CharField(label="Subject", max_length=150)
    question = forms.CharField(
        label="Your question",
        max_length=MAX_QUESTION,
        widget=forms.Textarea(attrs={"rows": 8, "maxlength": MAX_QUESTION}),
        help_text="Up to 5,000 characters. Leave out anything that identifies the patient.",
        error_messages={
            "required": "Type your question.",
            "max_length": "Questions are limited to 5,000 characters; this one had %(show_value)s.",
        },
    )
    codes = forms.CharField(
        label="Codes involved",
        required=False,
        max_length=300,
        help_text="CPT, HCPCS or ICD-10-CM codes, separated by spaces or commas.",
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "spellcheck": "false", "data-search-suggest": ""}
        ),
    )
    date_of_service = forms.DateField(
        label="Date of service",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    payer = forms.ChoiceField(label="Payer type", choices=Consultation.Payer.choices)
    specialty = forms.CharField(label="Specialty", max_length=100)
    place_of_service = forms.ChoiceField(
        label="Place of service", choices=Consultation.Place.choices
    )

    def clean_date_of_service(self) -> datetime.date | None:
        day = self.cleaned_data.get("date_of_service")
        if day is not None and day.year < 1990:
            raise forms.ValidationError("Give a date of service from 1990 on.")
        if day is not None and day > timezone.now().date() + datetime.timedelta(days=366):
            raise forms.ValidationError("The date of service is more than a year away.")
        return day

    def clean_question(self) -> str:
        question = self.cleaned_data["question"]
        if not question.strip():
            raise forms.ValidationError("Type your question.")
        return question


class AnswerForm(forms.Form):
    body = forms.CharField(
        label="Your answer",
        max_length=MAX_ANSWER,
        widget=forms.Textarea(attrs={"rows": 12, "maxlength": MAX_ANSWER}),
    )
    codes = forms.CharField(
        label="Codes the answer names",
        required=False,
        max_length=300,
        help_text="Start typing a code or words; choose a suggestion to add it.",
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "spellcheck": "false", "data-search-suggest": ""}
        ),
    )


class FollowUpForm(forms.Form):
    text = forms.CharField(
        label="Your follow-up question",
        max_length=MAX_QUESTION,
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": MAX_QUESTION}),
    )


class RateForm(forms.Form):
    rating = forms.TypedChoiceField(
        label="Rate this answer",
        coerce=int,
        choices=[(n, str(n)) for n in range(1, 6)],
        widget=forms.RadioSelect,
    )
