"""FilterSets of the webhook pages."""

import django_filters

from integrations.choices import DeliveryState
from integrations.models import WebhookDelivery


class WebhookDeliveryFilterSet(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(choices=DeliveryState.choices, label="Delivery", empty_label="Any")

    class Meta:
        model = WebhookDelivery
        fields = ["state"]
