from __future__ import annotations

from allauth.account.forms import SignupForm as AllauthSignupForm
from django import forms

EMAIL_MAX_LENGTH = 254  # RFC 5321's limit, and the column's


class SignupForm(AllauthSignupForm):
    """allauth's signup form, refusing over-long addresses instead of shortening them."""

    def clean_email(self) -> str:
        raw = self.data.get(self.add_prefix("email"), "")
        if len(raw) > EMAIL_MAX_LENGTH:
            raise forms.ValidationError(
                f"Email addresses are at most {EMAIL_MAX_LENGTH} characters long."
            )
        return super().clean_email()
