from __future__ import annotations

from allauth.account.forms import SignupForm as AllauthSignupForm
from django import forms

from accounts import mycodes

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


class NoteForm(forms.Form):
    """A private note on one code. Django's CharField already refuses NUL characters."""

    note = forms.CharField(
        label="Your note",
        required=False,
        max_length=mycodes.NOTE_MAX_CHARS,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 5, "maxlength": mycodes.NOTE_MAX_CHARS}),
        help_text=(
            f"Plain text, up to {mycodes.NOTE_MAX_CHARS:,} characters. Only you can see it. "
            "Leave it empty to delete the note."
        ),
    )


class TagsForm(forms.Form):
    tags = forms.CharField(
        label="Tags",
        required=False,
        max_length=mycodes.TAGS_PER_CODE * (mycodes.TAG_MAX_CHARS + 2),
        help_text=(
            f"Separate tags with commas, e.g. “spine, E/M”. Each tag at most "
            f"{mycodes.TAG_MAX_CHARS} characters."
        ),
    )

    def clean_tags(self) -> list[str]:
        return mycodes.tags_parse(raw=self.cleaned_data["tags"])


class CodesCsvForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text=(
            "One code per row. A header row may name the columns code, system (cpt, hcpcs or "
            "icd-10-cm) and tags; without one, the first column is the code. At most "
            f"{mycodes.CSV_MAX_BYTES // 1_000_000} MB."
        ),
    )

    def clean_file(self) -> list[list[str]]:
        upload = self.cleaned_data["file"]
        if upload.size > mycodes.CSV_MAX_BYTES:
            # Refused before reading: the size is known from the upload.
            raise forms.ValidationError(
                f"The file is {upload.size / 1_000_000:.1f} MB; a code list may be at most "
                f"{mycodes.CSV_MAX_BYTES // 1_000_000} MB."
            )
        try:
            return mycodes.csv_decode(data=upload.read())
        except mycodes.CsvRejected as rejected:
            raise forms.ValidationError(str(rejected)) from None
