from __future__ import annotations

from django import forms

from assistant.answers import MAX_QUESTION_LENGTH


class AskForm(forms.Form):
    question = forms.CharField(
        label="Your question",
        strip=True,
        max_length=MAX_QUESTION_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2, "maxlength": MAX_QUESTION_LENGTH}),
        error_messages={
            "required": f"Type a question of 1 to {MAX_QUESTION_LENGTH:,} characters.",
            "max_length": f"Questions are limited to {MAX_QUESTION_LENGTH:,} characters; "
            "this one had %(show_value)s.",
        },
    )
    context = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1)
    conversation = forms.UUIDField(required=False, widget=forms.HiddenInput)


class FeedbackForm(forms.Form):
    helpful = forms.TypedChoiceField(
        choices=[("yes", "Yes"), ("no", "No")], coerce=lambda value: value == "yes"
    )
    comment = forms.CharField(required=False, max_length=1000, widget=forms.Textarea)
