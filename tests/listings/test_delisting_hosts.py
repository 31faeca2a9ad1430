"""Several worker hosts on one PostgreSQL and one Redis: one dies with SIGKILL mid-job, the other finishes.

Each "host" is a `celery worker` subprocess of its own (prefork pool, as in production) with its own node
name, consuming the delisting queue, with its database sessions tagged by that name (application_name),
so the test knows which host holds the chunk it caught. As in test_delisting_crash, a row lock held on
one listing catches a worker inside a chunk's transaction; the host holding that chunk is the one killed
(its whole process group), and nothing is left to timing.
"""

import pytest
from django.db import connection

from marketsafe.celery import app
from tests.listings.test_delisting_crash import (  # noqa: F401 (broker, seller_listings, start_worker: fixtures)
    HELD_CHUNK,
    HeldListing,
    assert_each_listing_removed_once,
    broker,
    caught_in_held_chunk,
    drive_to_completion,
    in_held_chunk,
    seller_listings,
    start_worker,
    submit_job,
)
from tests.workers import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

HOSTS = ("host-a", "host-b")


def answering_hosts() -> set[str]:
    """The node names (before the @) that answer a ping on the broker."""
    return {node.split("@")[0] for reply in app.control.ping(timeout=1.0) for node in reply}


def blocked_host(held: HeldListing) -> str:
    """The application_name, i.e. the host, of the session waiting for the held listing's lock."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT application_name FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))",
            [held.backend],
        )
        [(name,)] = cursor.fetchall()
    return name


def test_two_hosts_share_a_job_and_the_survivor_finishes_it_when_one_is_killed(
    start_worker,  # noqa: F811
    seller_listings,  # noqa: F811
    moderator,
):
    seller_id, listing_ids = seller_listings
    hosts = {name: start_worker(name) for name in HOSTS}
    wait_until(lambda: answering_hosts() >= set(HOSTS), "both hosts to answer a ping")

    with HeldListing(in_held_chunk(listing_ids)) as held:
        job = submit_job(seller_id, moderator)
        caught_in_held_chunk(job, held)
        victim_name = blocked_host(held)
        [survivor_name] = set(HOSTS) - {victim_name}
        victim, survivor = hosts[victim_name], hosts[survivor_name]
        victim.kill()  # SIGKILL to the host's whole process group: no warm shutdown, no ack, no reject
        held.release()
    assert victim.process.poll() is not None

    drive_to_completion(job, list(hosts.values()))

    assert_each_listing_removed_once(job, listing_ids)  # removed == selected, one audit event per listing
    assert survivor.process.poll() is None
    assert answering_hosts() == {survivor_name}
    # The killed host's attempt on the held chunk counted, and the survivor's second attempt did the work.
    assert job.chunks.get(seq=HELD_CHUNK).attempts == 2
    assert survivor.logged("succeeded") >= 1
