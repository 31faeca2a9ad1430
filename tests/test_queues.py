"""Queues by kind of work (settings `CELERY_TASK_ROUTES`, docs/deployment.md "Queues").

Every task of the project has a route; a message sent lands in its queue's Redis list on a real broker;
the production Procfile runs one worker per queue and one beat; and a flood of webhook messages does not
hold back a delisting job whose worker consumes only the delisting queue.
"""

import inspect
import shlex

import pytest
import redis
from celery import Task
from django.conf import settings
from honcho.environ import parse_procfile

from core.queue import send
from integrations.tasks import deliver_webhook
from listings.choices import DELIST_JOB_FINISHED, DelistJobStatus
from listings.models import DelistJob
from marketsafe.celery import app
from tests.listings.test_delisting_worker import LISTINGS, seller_job  # noqa: F401 (a fixture)
from tests.outages import broker_at
from tests.workers import running_worker, wait_until

#: The project's apps: their tasks are the ones that must be routed (Celery's own are not).
PROJECT_APPS = ("brands.", "cases.", "detection.", "listings.", "integrations.", "reports.", "core.", "marketsafe.")
FLOOD = 2000


def project_tasks() -> dict[str, Task]:
    app.loader.import_default_modules()
    return {name: task for name, task in sorted(app.tasks.items()) if name.startswith(PROJECT_APPS)}


def queue_of(task_name: str) -> str:
    return app.amqp.router.route({}, task_name)["queue"].name


def depths(url: str) -> dict[str, int]:
    client = redis.Redis.from_url(url)
    return {queue: client.llen(queue) for queue in settings.QUEUE_NAMES}


def test_every_project_task_is_routed_to_a_queue_of_its_kind():
    tasks = project_tasks()
    assert len(tasks) >= 12
    unrouted = [name for name in tasks if name not in settings.CELERY_TASK_ROUTES]
    assert unrouted == []
    for name in tasks:
        assert queue_of(name) in settings.QUEUE_NAMES
        assert queue_of(name) != app.conf.task_default_queue, name
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {queue_of(name) for name in scheduled} == {"sweeps"}
    assert {queue_of(name) for name in tasks if name.startswith("listings.") and name not in scheduled} == {"delisting"}


def test_a_worker_without_queue_options_consumes_every_queue():
    assert set(app.amqp.queues) == set(settings.QUEUE_NAMES)
    assert set(app.amqp.queues.consume_from) == set(settings.QUEUE_NAMES)
    assert set(settings.READINESS_QUEUES) == set(settings.QUEUE_NAMES)


@pytest.mark.integration  # really published (tests/conftest.py sends e-mail in process otherwise)
@pytest.mark.parametrize("name", sorted(project_tasks()))
def test_a_task_sent_lands_in_its_queue_on_the_broker(name, own_redis):
    task = project_tasks()[name]
    parameters = inspect.signature(task.run).parameters
    with broker_at(own_redis.url):
        assert send(task, *[0] * len(parameters))
    expected = dict.fromkeys(settings.QUEUE_NAMES, 0) | {queue_of(name): 1}
    assert depths(own_redis.url) == expected


def procfile_commands(path: str) -> dict[str, list[str]]:
    procfile = parse_procfile((settings.BASE_DIR / path).read_text())
    return {name: shlex.split(command) for name, command in procfile.processes.items()}


def option(command: list[str], name: str) -> str | None:
    return command[command.index(name) + 1] if name in command else None


def test_the_production_procfile_runs_one_worker_per_queue_and_exactly_one_beat():
    commands = procfile_commands("deploy/Procfile")
    workers = {name: command for name, command in commands.items() if "worker" in command}
    beats = [name for name, command in commands.items() if "beat" in command]
    assert beats == ["beat"]
    consumed = [queue for command in workers.values() for queue in option(command, "-Q").split(",")]
    assert sorted(consumed) == sorted(settings.QUEUE_NAMES)  # each queue by exactly one kind of worker
    nodes = [option(command, "-n") for command in workers.values()]
    assert len(set(nodes)) == len(workers) and all(node.endswith("@%h") for node in nodes)
    assert all(option(command, "--concurrency").startswith("${") for command in workers.values())


def test_the_development_procfile_keeps_one_worker_for_every_queue():
    commands = procfile_commands("Procfile")
    workers = [command for command in commands.values() if "worker" in command]
    assert len(workers) == 1 and option(workers[0], "-Q") is None


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_a_flood_of_webhooks_does_not_delay_a_delisting_job(own_redis, seller_job, settings):  # noqa: F811
    settings.MARKETSAFE = {**settings.MARKETSAFE, "DELIST_CHUNK_SIZE": 500}
    with broker_at(own_redis.url), running_worker(queues=["delisting"]):
        for delivery_id in range(1, FLOOD + 1):
            assert send(deliver_webhook, delivery_id)
        assert depths(own_redis.url)["webhooks"] == FLOOD

        job = seller_job()
        wait_until(lambda: DelistJob.objects.get(pk=job.pk).status in DELIST_JOB_FINISHED, "the job to finish")

        job.refresh_from_db()
        assert (job.status, job.total) == (DelistJobStatus.COMPLETED, LISTINGS)
        # The job finished while every webhook message still waited: it never queued behind them.
        assert depths(own_redis.url) == dict.fromkeys(settings.QUEUE_NAMES, 0) | {"webhooks": FLOOD}
