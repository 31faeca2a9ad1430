"""The token creation form of the portal."""

from django import forms

from brands.api.token_serializers import MAX_TOKEN_DAYS
from brands.forms import PortalFormMixin


class ApiTokenForm(PortalFormMixin, forms.Form):
    name = forms.CharField(label="Name", max_length=100, help_text="What uses the token, e.g. “nightly import script”.")
    expires_in_days = forms.IntegerField(
        label="Expires after (days)",
        required=False,
        min_value=1,
        max_value=MAX_TOKEN_DAYS,
        help_text="Leave empty for a token that works until it is revoked or you leave the brand.",
    )
