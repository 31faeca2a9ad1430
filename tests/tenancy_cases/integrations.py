"""Tenancy cases of the brand's webhook pages: owners only; another brand's endpoint is not found."""

from brands.choices import Role
from integrations import services
from integrations.models import WebhookDelivery, WebhookEndpoint
from tests.harness import ACTOR, BRAND, Audited, Deleted, Saved, TenancyCase, owners_post, url_object

OWNERS = frozenset({Role.OWNER})
#: A public address given literally: the SSRF guard needs no DNS lookup to accept it.
PUBLIC_URL = "https://93.184.215.14/hooks/marketsafe"


def _endpoint(brand, user):
    return {"pk": services.webhook_endpoint_create(brand=brand, url=PUBLIC_URL, actor=user).pk}


CASES = [
    TenancyCase("integrations:webhook_list", model=WebhookEndpoint, allowed_roles=OWNERS),
    TenancyCase("integrations:webhook_create", model=WebhookEndpoint, allowed_roles=OWNERS),
    owners_post(
        "integrations:webhook_create",
        WebhookEndpoint,
        data={"url": PUBLIC_URL, "description": "Case tracker"},
        saved=Saved(
            WebhookEndpoint, {"brand": BRAND, "url": PUBLIC_URL, "description": "Case tracker", "created_by": ACTOR}
        ),
        audited=Audited("webhook.create"),
    ),
    TenancyCase("integrations:webhook_detail", model=WebhookEndpoint, make=_endpoint, allowed_roles=OWNERS),
    owners_post(
        "integrations:webhook_test",
        WebhookEndpoint,
        make=_endpoint,
        # A ping queued for the endpoint; the audit event is the endpoint's.
        saved=Saved(WebhookDelivery, {"endpoint": url_object(WebhookEndpoint), "event__type": "ping"}),
        audited=Audited("webhook.test", target=url_object(WebhookEndpoint)),
    ),
    TenancyCase("integrations:webhook_delete", model=WebhookEndpoint, make=_endpoint, allowed_roles=OWNERS),
    owners_post(
        "integrations:webhook_delete",
        WebhookEndpoint,
        make=_endpoint,
        saved=Deleted(WebhookEndpoint),
        audited=Audited("webhook.delete"),
    ),
]
