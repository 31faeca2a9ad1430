"""Seller networks: the component around a seller over shared identifiers, identical images and re-listings,
with its caps; actions on a whole network (one delisting job, suspensions) and their second approver."""

import itertools

import pytest
from django.core.exceptions import PermissionDenied

from core.audit.models import AuditEvent
from core.errors import Conflict
from detection.services.hashes import listing_image_hashes_replace
from detection.services.matching import listings_match
from investigations.models import NetworkAction, NetworkActionKind, NetworkActionStatus
from investigations.selectors_networks import IMAGE, RELISTING, seller_network
from investigations.services import networks as services
from listings import delisting
from listings.choices import ListingStatus, PenaltyAction, SellerStatus
from listings.delisting import common
from listings.identifiers import identifier_digest, seller_identifiers_replace
from listings.models import DelistJob, SellerPenalty
from tests import factories
from tests.concurrency import run_together
from tests.detection.conftest import ORIGINAL_TITLE, new_listing, removed_item, seller  # noqa: F401

pytestmark = pytest.mark.django_db

HASH = "ab" * 32


def share(kind: str, value: str, *sellers) -> None:
    """Give each seller the identifier (beside those it has), as the platform upsert would store it."""
    for one in sellers:
        current = set(one.identifiers.values_list("kind", "digest"))
        seller_identifiers_replace(digests_by_seller={one.pk: current | {(kind, identifier_digest(kind, value))}})


@pytest.fixture
def sellers(marketplace):
    return [factories.SellerFactory(marketplace=marketplace, name=f"Ring {n}") for n in range(8)]


@pytest.fixture
def moderators(staff):
    return staff("Moderators", "mod1"), staff("Moderation leads", "lead1"), staff("Moderation leads", "lead2")


def test_a_chain_of_shared_identifiers_and_images_is_one_network(sellers):
    a, b, c, d, lonely = sellers[:5]
    share("phone", "+49 30 5550100", a, b)
    share("payment_account", "DE89 3704 0044 0532 0130 00", b, c)
    listing_c = factories.ListingFactory(marketplace=c.marketplace, seller=c)
    listing_d = factories.ListingFactory(marketplace=d.marketplace, seller=d)
    listing_image_hashes_replace(hashes_by_listing={listing_c.pk: [HASH], listing_d.pk: [HASH]})
    share("phone", "+1 212 555 0199", lonely)

    network = seller_network(a.pk)

    assert sorted(network.seller_ids) == sorted([a.pk, b.pk, c.pk, d.pk])
    assert {node.seller.pk: node.depth for node in network.nodes} == {a.pk: 0, b.pk: 1, c.pk: 2, d.pk: 3}
    reasons = {(edge.a, edge.b): edge.reasons for edge in network.edges}
    assert reasons == {
        tuple(sorted((a.pk, b.pk))): {"phone": 1},
        tuple(sorted((b.pk, c.pk))): {"payment_account": 1},
        tuple(sorted((c.pk, d.pk))): {IMAGE: 1},
    }
    assert not network.truncated
    assert seller_network(lonely.pk).seller_ids == [lonely.pk]


def test_the_search_stops_at_its_caps_and_says_so(sellers):
    chain = sellers[:5]  # depths 0 to 4: the default cap of 4 hops reaches them all
    for n, (one, other) in enumerate(itertools.pairwise(chain)):
        share("tax_id", f"DE10000000{n}", one, other)

    by_depth = seller_network(chain[0].pk, max_depth=2)
    assert by_depth.seller_ids == [s.pk for s in chain[:3]]
    assert by_depth.truncated
    by_size = seller_network(chain[0].pk, max_sellers=4)
    assert len(by_size) == 4 and by_size.truncated
    # No edge to a seller left out.
    assert all({edge.a, edge.b} <= set(by_size.seller_ids) for edge in by_size.edges)
    assert not seller_network(chain[0].pk).truncated


def test_a_relisting_links_the_new_seller_to_the_earlier_removals_seller(
    removed_item,  # noqa: F811
    new_listing,  # noqa: F811
    seller,  # noqa: F811
    marketplace,
):
    newcomer = factories.SellerFactory(marketplace=marketplace, name="Fresh Account")
    listing = new_listing(ORIGINAL_TITLE, seller=newcomer)
    listings_match(listing_ids=[listing.pk])

    network = seller_network(newcomer.pk)

    assert sorted(network.seller_ids) == sorted([newcomer.pk, seller.pk])
    assert [edge.reasons for edge in network.edges] == [{RELISTING: 1}]


def test_nodes_carry_status_strikes_and_live_listings(sellers):
    a, b = sellers[:2]
    share("address", "1 Dock Road, Harbour Town", a, b)
    factories.ListingFactory.create_batch(3, marketplace=a.marketplace, seller=a)
    factories.ListingFactory(marketplace=a.marketplace, seller=a, status=ListingStatus.REMOVED)
    network = seller_network(b.pk)
    node = next(node for node in network.nodes if node.seller.pk == a.pk)
    assert (node.live_listings, node.active_strikes) == (3, 0)
    assert network.live_listings == 3


def _ring(sellers, size: int, listings_each: int = 2):
    ring = sellers[:size]
    share("phone", "+44 20 7946 0958", *ring)
    for one in ring:
        factories.ListingFactory.create_batch(listings_each, marketplace=one.marketplace, seller=one)
    return ring


def test_a_small_network_is_delisted_at_once_by_one_job(sellers, moderators, no_lock_checks, monkeypatch):
    moderator, _, _ = moderators
    ring = _ring(sellers, 3)
    action = services.network_action_request(
        seller_id=ring[0].pk, kind=NetworkActionKind.DELIST, actor=moderator, reason="Ring", idempotency_key="k1"
    )
    assert action.status == NetworkActionStatus.EXECUTED and not action.needs_second_approval
    job = action.delist_job
    assert DelistJob.objects.count() == 1
    assert job.selection_kind == services.NETWORK_SELECTION
    assert len(job.selection["listing_ids"]) == 6
    # The engine removes them all.
    delisting.delist_job_plan(job_id=job.pk)
    for chunk in job.chunks.all():
        delisting.delist_chunk_process(chunk_id=chunk.pk)
    assert not any(s.listings.filter(status=ListingStatus.ACTIVE).exists() for s in ring)
    assert all(s.status == SellerStatus.ACTIVE for s in ring)  # delisting only: accounts untouched
    # A double click answers the same action, and no second job.
    again = services.network_action_request(
        seller_id=ring[0].pk, kind=NetworkActionKind.DELIST, actor=moderator, reason="Ring", idempotency_key="k1"
    )
    assert again.pk == action.pk and DelistJob.objects.count() == 1
    events = AuditEvent.objects.filter(action__startswith="network_action.").order_by("pk")
    assert list(events.values_list("action", flat=True)) == [
        "network_action.request",
        "network_action.execute",
    ]


def test_suspending_a_network_suspends_every_account_after_a_warning(sellers, moderators):
    moderator, _, _ = moderators
    ring = _ring(sellers, 3)
    action = services.network_action_request(
        seller_id=ring[1].pk, kind=NetworkActionKind.SUSPEND, actor=moderator, reason="Ring", idempotency_key="k2"
    )
    for one in ring:
        one.refresh_from_db()
        assert one.status == SellerStatus.SUSPENDED
        penalties = list(SellerPenalty.objects.filter(seller=one).order_by("pk").values_list("action", "delist_job"))
        assert penalties == [(PenaltyAction.WARN, None), (PenaltyAction.SUSPEND, action.delist_job_id)]
        assert one.penalties.get(action=PenaltyAction.SUSPEND).applied_by == moderator
    assert DelistJob.objects.count() == 1
    assert AuditEvent.objects.filter(action="penalty.apply").count() == 6


def test_a_large_network_waits_for_a_second_lead(sellers, moderators):
    moderator, lead, other_lead = moderators
    ring = _ring(sellers, 5)
    action = services.network_action_request(
        seller_id=ring[0].pk, kind=NetworkActionKind.SUSPEND, actor=lead, reason="Big ring", idempotency_key="k3"
    )
    assert action.status == NetworkActionStatus.PENDING and action.needs_second_approval
    assert not DelistJob.objects.exists()
    assert all(s.status == SellerStatus.ACTIVE for s in type(ring[0]).objects.filter(pk__in=action.seller_ids))

    with pytest.raises(Conflict, match="already waits"):
        services.network_action_request(
            seller_id=ring[0].pk, kind=NetworkActionKind.SUSPEND, actor=lead, reason="Again", idempotency_key="k4"
        )
    with pytest.raises(Conflict, match="different moderation lead"):
        services.network_action_approve(action_id=action.pk, actor=lead)
    with pytest.raises(PermissionDenied):
        services.network_action_approve(action_id=action.pk, actor=moderator)

    approved = services.network_action_approve(action_id=action.pk, actor=other_lead)
    assert approved.status == NetworkActionStatus.EXECUTED and approved.approved_by == other_lead
    assert DelistJob.objects.count() == 1
    assert all(s.status == SellerStatus.SUSPENDED for s in type(ring[0]).objects.filter(pk__in=action.seller_ids))
    with pytest.raises(Conflict, match="already executed"):
        services.network_action_approve(action_id=action.pk, actor=other_lead)
    assert AuditEvent.objects.filter(action="network_action.approve", actor=other_lead).exists()


def test_a_lead_declines_and_nothing_happens(sellers, moderators, settings):
    settings.MARKETSAFE = {**settings.MARKETSAFE, "NETWORK_SECOND_APPROVER_MIN_LISTINGS": 4}
    moderator, lead, _ = moderators
    ring = _ring(sellers, 2)  # two sellers, four live listings: large by its listings
    action = services.network_action_request(
        seller_id=ring[0].pk, kind=NetworkActionKind.DELIST, actor=moderator, reason="Pair", idempotency_key="k5"
    )
    assert action.needs_second_approval
    services.network_action_decline(action_id=action.pk, actor=lead, reason="Not enough evidence")
    action.refresh_from_db()
    assert action.status == NetworkActionStatus.DECLINED and action.delist_job is None
    assert not DelistJob.objects.exists()


def test_only_moderation_staff_may_act(sellers):
    nobody = factories.UserFactory(username="clerk", is_staff=True)
    with pytest.raises(PermissionDenied):
        services.network_action_request(
            seller_id=sellers[0].pk, kind=NetworkActionKind.DELIST, actor=nobody, reason="x", idempotency_key="k6"
        )
    assert not NetworkAction.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_leads_approving_at_once_execute_the_action_once(sellers, moderators, monkeypatch):
    monkeypatch.setattr(common, "enqueue_plan", lambda job_id: None)  # no broker needed: the job's row is enough
    _, first, second = moderators
    third = factories.UserFactory(username="lead3", is_staff=True, is_superuser=True)
    ring = _ring(sellers, 5)
    action = services.network_action_request(
        seller_id=ring[0].pk, kind=NetworkActionKind.SUSPEND, actor=first, reason="Ring", idempotency_key="race"
    )
    outcomes = run_together(
        lambda: services.network_action_approve(action_id=action.pk, actor=second),
        lambda: services.network_action_approve(action_id=action.pk, actor=third),
    )
    assert sorted(kind for kind, _ in outcomes) == ["error", "ok"]
    assert isinstance(next(value for kind, value in outcomes if kind == "error"), Conflict)
    assert DelistJob.objects.count() == 1
    assert SellerPenalty.objects.filter(action=PenaltyAction.SUSPEND).count() == 5
