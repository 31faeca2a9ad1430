"""Automated accessibility check (axe-core, through axe-playwright-python) of every portal page a brand owner
reaches by following links from the home page, the refused page, the login pages, and the admin console's
main pages: no serious or critical violation.

axe-core is injected through Playwright's evaluate, which the page's Content Security Policy does not govern,
so the pages are checked exactly as served.
"""

import io
from urllib.parse import urljoin, urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.core.management import call_command
from django.urls import reverse
from playwright.sync_api import Error as PlaywrightError

from cases.models import Case, CaseItem
from listings.models import DelistJob, Seller

PASSWORD = "marketsafe-demo"  # seed_demo's password of every demo login
#: Impacts that fail the check; "moderate" and "minor" findings are for a person to weigh.
FAILING = {"serious", "critical"}
#: Paths the crawl never opens: they act, or leave the portal's pages.
SKIPPED = ("/accounts/logout/", "/admin/", "/api/")
#: Enough for every kind of portal page, few enough to keep the test short.
MAX_PAGES = 80

axe = Axe()


def failures(page) -> list[str]:
    """The serious and critical violations on the page, one line each, naming the rule and the elements."""
    results = axe.run(page)
    return [
        f"{page.url}: {violation['id']} ({violation['impact']}): {violation['help']} — "
        + "; ".join(
            " ".join(node["target"]) if isinstance(node["target"], list) else str(node["target"])
            for node in violation["nodes"][:5]
        )
        for violation in results.response["violations"]
        if violation["impact"] in FAILING
    ]


@pytest.fixture
def demo(db):
    call_command("seed_demo", stdout=io.StringIO())


def log_in(page, base: str, username: str) -> None:
    page.context.clear_cookies()  # the login page sends a signed-in user away
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()


def crawl(page, base: str, start: str) -> tuple[list[str], list[str]]:
    """Visit every same-site page linked from `start` (paths without their query strings); the pages seen and
    their failures."""
    queue, seen, found = [start], set(), []
    while queue and len(seen) < MAX_PAGES:
        path = queue.pop(0)
        if path in seen:
            continue
        seen.add(path)
        try:
            response = page.goto(base + path)
        except PlaywrightError as error:  # a file download (an export, a document) is no page
            if "Download is starting" in str(error):
                continue
            raise
        if response is None or "text/html" not in response.headers.get("content-type", ""):
            continue
        found += failures(page)
        for href in page.locator("a[href]").evaluate_all("links => links.map(a => a.getAttribute('href'))"):
            parts = urlsplit(urljoin(base + path, href))
            if parts.netloc == urlsplit(base).netloc and not parts.path.startswith(SKIPPED):
                queue.append(parts.path)
    return sorted(seen), found


@pytest.mark.django_db(transaction=True)
def test_the_pages_before_login_have_no_serious_violations(page, live_server):
    found = []
    for path in ("/accounts/login/", "/accounts/password/reset/", "/admin/login/"):
        page.goto(live_server.url + path)
        found += failures(page)
    assert found == [], "\n".join(found)


@pytest.mark.django_db(transaction=True)
def test_every_portal_page_has_no_serious_violations(page, live_server, demo):
    log_in(page, live_server.url, "owner")
    seen, found = crawl(page, live_server.url, "/")
    assert len(seen) >= 25, seen  # the crawl reached the brand's pages, not just the home page
    assert any("/cases/" in path for path in seen) and any("/rights/" in path for path in seen)
    # A refused page (a viewer filing) and a page the viewer may see.
    log_in(page, live_server.url, "viewer")
    page.goto(live_server.url + reverse("cases:case_create", kwargs={"brand_slug": "acme"}))
    found += failures(page)
    assert found == [], "\n".join(found)


@pytest.mark.django_db(transaction=True)
def test_the_console_s_main_pages_have_no_serious_violations(page, live_server, demo):
    log_in(page, live_server.url, "admin")
    item = CaseItem.objects.order_by("pk").first()
    job = DelistJob.objects.order_by("pk").first()
    paths = [
        reverse("admin:index"),
        reverse("admin:cases_caseitem_changelist"),
        reverse("admin:cases_caseitem_changelist") + "?status=all",
        reverse("admin:cases_caseitem_change", args=[item.pk]),
        reverse("admin:cases_case_changelist"),
        reverse("admin:cases_case_change", args=[Case.objects.order_by("pk").first().pk]),
        reverse("admin:cases_counternotice_changelist"),
        reverse("admin:cases_appeal_changelist"),
        reverse("admin:listings_delistjob_changelist"),
        reverse("admin:listings_listing_changelist"),
        reverse("admin:listings_seller_changelist"),
        reverse("admin:brands_programapplication_changelist"),
        reverse("admin:brands_ipright_changelist"),
        reverse("admin:sla"),
        reverse("admin:program_report"),
        # The demo's seller network (investigations.demo_networks): its drawing, tables and action form.
        reverse("admin:investigations_seller_network", args=[Seller.objects.get(external_id="ring-lucky-star").pk]),
    ]
    if job is not None:
        paths.append(reverse("admin:listings_delistjob_change", args=[job.pk]))
    found = []
    for path in paths:
        response = page.goto(live_server.url + path)
        assert response.status == 200, path
        found += failures(page)
    # The bulk confirmation page.
    page.goto(live_server.url + reverse("admin:cases_caseitem_changelist"))
    page.locator("#action-toggle").check()
    page.get_by_role("combobox", name="Action").select_option(label="Reject selected items…")
    page.get_by_role("button", name="Run").click()
    found += failures(page)
    # The console's refused page, as a moderator.
    log_in(page, live_server.url, "moderator")
    page.goto(live_server.url + reverse("admin:accounts_user_changelist"))
    found += failures(page)
    assert found == [], "\n".join(found)
