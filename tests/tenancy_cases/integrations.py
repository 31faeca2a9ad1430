"""Tenancy cases of the brand's webhook pages: owners only; another brand's endpoint is not found."""

from brands.choices import Role
from integrations import services
from integrations.models import WebhookEndpoint
from tests.harness import TenancyCase

OWNERS = frozenset({Role.OWNER})
#: A public address given literally: the SSRF guard needs no DNS lookup to accept it.
PUBLIC_URL = "https://93.184.215.14/hooks/marketsafe"


def _endpoint(brand, user):
    return {"pk": services.webhook_endpoint_create(brand=brand, url=PUBLIC_URL, actor=user).pk}


CASES = [
    TenancyCase("integrations:webhook_list", model=WebhookEndpoint, allowed_roles=OWNERS),
    TenancyCase("integrations:webhook_create", model=WebhookEndpoint, allowed_roles=OWNERS),
    TenancyCase(
        "integrations:webhook_create",
        model=WebhookEndpoint,
        allowed_roles=OWNERS,
        method="post",
        data={"url": PUBLIC_URL, "description": "Case tracker"},
        success=302,
    ),
    TenancyCase("integrations:webhook_detail", model=WebhookEndpoint, make=_endpoint, allowed_roles=OWNERS),
    TenancyCase(
        "integrations:webhook_test",
        model=WebhookEndpoint,
        make=_endpoint,
        allowed_roles=OWNERS,
        method="post",
        success=302,
    ),
    TenancyCase("integrations:webhook_delete", model=WebhookEndpoint, make=_endpoint, allowed_roles=OWNERS),
    TenancyCase(
        "integrations:webhook_delete",
        model=WebhookEndpoint,
        make=_endpoint,
        allowed_roles=OWNERS,
        method="post",
        success=302,
    ),
]
