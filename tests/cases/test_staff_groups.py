"""The staff groups created by migration `cases.0004_staff_groups`: exactly their permissions, and what
each kind of user reaches in the admin."""

from functools import cache
from importlib import import_module

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.state import StateApps

from brands.choices import Role
from marketsafe.management.commands import seed_demo
from tests import factories
from tests.safeguards.groups import make_safeguards_permissions

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("staff_groups")]

GROUPS_MIGRATION = ("cases", "0004_staff_groups")
#: Grants the association reviewers the program report's permission.
REPORT_MIGRATION = ("brands", "0003_program_monitoring")
#: Grants the moderation leads rights verification and adding a penalty policy (issue 13).
WORKFLOW_MIGRATION = ("cases", "0005_workflow_permissions")


@cache
def _migration_apps(target: tuple[str, str] = GROUPS_MIGRATION) -> StateApps:
    """The models as a migration sees them (computed once each: rendering the state is slow)."""
    return MigrationLoader(None, ignore_no_migrations=True).project_state(target).apps


@pytest.fixture
def staff_groups(db) -> None:
    """The groups as the migration's own forward function makes them, run again in this test's transaction.

    The migration did run when the test database was created, but any transactional test (a live server,
    a Celery worker) empties every table when it ends, and `--reuse-db` keeps that empty state for the
    next run; running the same function again (it is idempotent) keeps these tests independent of that.
    """
    migration = import_module(f"{GROUPS_MIGRATION[0]}.migrations.{GROUPS_MIGRATION[1]}")
    report = import_module(f"{REPORT_MIGRATION[0]}.migrations.{REPORT_MIGRATION[1]}")
    workflow = import_module(f"{WORKFLOW_MIGRATION[0]}.migrations.{WORKFLOW_MIGRATION[1]}")
    with connection.schema_editor() as schema_editor:
        migration.create_groups(_migration_apps(), schema_editor)
        report.grant_report_permission(_migration_apps(), schema_editor)
        workflow.grant(_migration_apps(WORKFLOW_MIGRATION), schema_editor)


CASES = ("case", "caseitem", "evidence", "declaration", "counternotice", "appeal", "statementofreasons", "casedraft")
LISTINGS = (
    "marketplace",
    "seller",
    "listing",
    "strike",
    "sellerpenalty",
    "penaltypolicy",
    "penaltythreshold",
    "delistjob",
    "delisttarget",
    "delistchunk",
)
RIGHTS = ("brand", "ipright", "iprightdocument")
PROGRAM = ("programapplication", "programmembership", "informationrequest", "applicationdocument")

MODERATOR = {
    *(f"cases.view_{m}" for m in CASES),
    *(f"listings.view_{m}" for m in LISTINGS),
    *(f"brands.view_{m}" for m in RIGHTS),
    "audit.view_auditevent",
    "cases.change_caseitem",
    "cases.decide_caseitem",
    "listings.add_delistjob",
}
LEAD = MODERATOR | {
    "cases.decide_appeal",
    "listings.change_delistjob",
    "listings.add_penaltythreshold",
    "listings.change_penaltythreshold",
    "listings.delete_penaltythreshold",
    "listings.change_penaltypolicy",
    "listings.change_sellerpenalty",
    "listings.add_penaltypolicy",
    "brands.verify_ipright",
}
REVIEWER = {
    *(f"brands.{action}_{m}" for m in PROGRAM for action in ("view", "change")),
    *(f"brands.view_{m}" for m in RIGHTS),
    "brands.view_program_report",
}
CASE_ITEMS = "/admin/cases/caseitem/"


def permissions_of(group_name: str) -> set[str]:
    group = Group.objects.get(name=group_name)
    return {
        f"{app}.{codename}" for app, codename in group.permissions.values_list("content_type__app_label", "codename")
    }


@pytest.mark.parametrize(
    ("group_name", "expected"),
    [
        (seed_demo.MODERATORS, MODERATOR),
        (seed_demo.MODERATION_LEADS, LEAD),
        (seed_demo.ASSOCIATION_REVIEWERS, REVIEWER),
    ],
)
def test_each_group_has_exactly_its_permissions(group_name, expected):
    assert permissions_of(group_name) == expected


def test_reviewers_have_nothing_of_cases_or_listings():
    assert not {p for p in permissions_of(seed_demo.ASSOCIATION_REVIEWERS) if p.startswith(("cases.", "listings."))}


def staff_in(group_name: str, username: str):
    user = factories.UserFactory(username=username, is_staff=True)
    user.groups.add(Group.objects.get(name=group_name))
    return user


@pytest.fixture
def group_moderator():
    return staff_in(seed_demo.MODERATORS, "mona")


@pytest.fixture
def group_lead():
    return staff_in(seed_demo.MODERATION_LEADS, "leo")


@pytest.fixture
def group_reviewer():
    return staff_in(seed_demo.ASSOCIATION_REVIEWERS, "rosa")


def test_a_moderator_reaches_case_items_and_decides_them_but_not_appeals(client, group_moderator):
    client.force_login(group_moderator)
    assert client.get(CASE_ITEMS).status_code == 200
    assert group_moderator.has_perm("cases.decide_caseitem")
    assert not group_moderator.has_perm("cases.decide_appeal")
    assert not group_moderator.has_perm("listings.change_delistjob")  # cancelling jobs is the leads'


def test_a_lead_also_decides_appeals_cancels_jobs_and_edits_the_policy(group_lead):
    assert group_lead.has_perms(
        ["cases.decide_caseitem", "cases.decide_appeal", "listings.change_delistjob", "listings.change_penaltypolicy"]
    )


def test_a_reviewer_is_refused_case_items_but_reaches_applications(client, group_reviewer):
    client.force_login(group_reviewer)
    assert client.get(CASE_ITEMS).status_code == 403
    assert client.get("/admin/cases/").status_code == 404  # the app is not even listed
    assert client.get("/admin/brands/programapplication/").status_code == 200
    assert "/admin/cases/" not in client.get("/admin/").content.decode()


def test_a_brand_user_is_sent_to_the_admin_login(client, member_of):
    client.force_login(member_of(Role.OWNER))
    response = client.get(CASE_ITEMS)
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


def test_the_demo_staff_join_the_groups_the_migration_made():
    make_safeguards_permissions()  # the safeguards' migrations add the Quality auditors
    demo_groups = {user.group for user in seed_demo.DEMO_USERS if user.group}
    assert demo_groups == set(Group.objects.values_list("name", flat=True))
