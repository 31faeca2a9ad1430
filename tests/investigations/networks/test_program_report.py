"""The association sees seller networks as aggregates in the program report: how many actions, how large,
never which sellers."""

import csv
import io

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from investigations.models import NetworkActionKind
from investigations.services import networks as services
from tests import factories
from tests.investigations.networks.test_networks import share

pytestmark = pytest.mark.django_db


def test_the_program_report_counts_network_actions_without_naming_sellers(client, marketplace, staff):
    sellers = [factories.SellerFactory(marketplace=marketplace, name=f"Ring seller {n}") for n in range(8)]
    lead, other = staff("Moderation leads", "lead1"), staff("Moderation leads", "lead2")
    small, large = sellers[:3], sellers[3:]
    share("phone", "+44 20 7946 0001", *small)
    share("phone", "+44 20 7946 0002", *large)
    services.network_action_request(
        seller_id=small[0].pk, kind=NetworkActionKind.DELIST, actor=lead, reason="Small", idempotency_key="a"
    )
    pending = services.network_action_request(
        seller_id=large[0].pk, kind=NetworkActionKind.SUSPEND, actor=lead, reason="Large", idempotency_key="b"
    )
    reviewer = staff("Association reviewers", "reviewer")
    reviewer.user_permissions.add(Permission.objects.get(codename="view_program_report"))  # brands' 0003 grants it
    client.force_login(reviewer)
    page = client.get(reverse("admin:program_report")).content.decode()
    figures = page.split('id="network-figures"')[1].split("</table>")[0]
    assert 'Networks delisted</th><td class="number">1<' in figures
    assert 'Waiting for a second approver</th><td class="number">1<' in figures
    assert "Ring seller" not in page

    services.network_action_approve(action_id=pending.pk, actor=other)
    response = client.get(reverse("admin:program_report") + "?format=csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    network_rows = {(row[0], row[1]): row[3] for row in rows if row[0].startswith(("network", "largest"))}
    assert network_rows == {
        ("network_actions_executed", "suspend"): "1",
        ("network_actions_executed", "delist"): "1",
        ("network_actions_pending", ""): "0",
        ("network_sellers_acted_on", ""): "8",
        ("largest_network_acted_on", ""): "5",
    }
