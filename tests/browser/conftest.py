"""Browser tests: Playwright driving Debian's Chromium (browser downloads are blocked, so never
`playwright install`) against pytest-django's live server.

Under CI (`CI=1`) a missing Chromium fails the run; elsewhere the browser tests are skipped with a
message saying how to install it.
"""

import os
import shutil

import pytest

# The detection tests' fixtures (an upheld removal in a bank, new listings), for the re-listing journeys.
from tests.detection.conftest import new_listing, removed_item, seller  # noqa: F401

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")

# Playwright's sync API runs an event loop in the test thread; Django refuses ORM calls from a thread
# with a running loop unless told this is deliberate (the calls are still synchronous).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/browser/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)
    if CHROMIUM:
        return
    if os.environ.get("CI"):
        raise pytest.UsageError("CI=1 but no chromium binary found: install Debian's chromium package.")
    skip = pytest.mark.skip(reason="no chromium binary (apt-get install chromium) for the browser tests")
    for item in items:
        if item.get_closest_marker("browser"):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


@pytest.fixture
def login(page, live_server):
    """login(username, password) through the real login form; returns the page."""

    def do(username: str, password: str = "correct horse battery"):
        page.goto(f"{live_server.url}/accounts/login/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Log in").click()
        return page

    return do
