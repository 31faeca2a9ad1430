"""Forms of the brand's webhook pages."""

from django import forms

from integrations.models import WebhookEndpoint


class WebhookEndpointForm(forms.ModelForm):
    class Meta:
        model = WebhookEndpoint
        fields = ("url", "description")
        labels = {"url": "Endpoint URL", "description": "Description (optional)"}
        help_texts = {
            "url": "An https:// address of your system that accepts POST requests with a JSON body.",
            "description": "What receives the events, e.g. 'case tracker (production)'.",
        }
