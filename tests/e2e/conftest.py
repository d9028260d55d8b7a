"""Browser tests: pytest-playwright driving the system chromium against pytest-django's live server.

Never ``playwright install``: it downloads a browser. ``apt-get install chromium`` gives
``/usr/bin/chromium``; without it every test here is skipped with the reason shown.
"""

import os
from pathlib import Path

import pytest
from django.conf import settings

from tests.workers import worker  # noqa: F401 - a real Celery worker for the journeys that need one

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
HERE = Path(__file__).parent
PASSWORD = "pw-Secret-123"  # every user of tests.factories.UserFactory

# Playwright's sync API runs an event loop in the test thread; Django refuses database access
# from a thread with a running loop unless told it is safe. It is here: the loop only waits on
# the browser. Kept to this folder's conftest.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"


def pytest_collection_modifyitems(config, items):
    for item in items:
        if HERE not in Path(str(item.fspath)).parents:
            continue
        item.add_marker(pytest.mark.e2e)
        if not CHROMIUM.exists():
            item.add_marker(pytest.mark.skip(reason=f"{CHROMIUM} is missing: apt-get install chromium"))


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": str(CHROMIUM), "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1280, "height": 900}, "locale": "zh-CN"}


@pytest.fixture
def shot():
    """Save a full-page PNG of a page under var/screenshots/ (BAOJIA_SCREENSHOTS_DIR to change)."""
    folder = Path(os.environ.get("BAOJIA_SCREENSHOTS_DIR", Path(settings.BASE_DIR, "var", "screenshots")))
    folder.mkdir(parents=True, exist_ok=True)

    def save(page, name: str) -> Path:
        page.wait_for_load_state("networkidle")
        path = folder / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return save


@pytest.fixture
def login(live_server):
    def log_in(page, username: str, password: str = PASSWORD) -> None:
        page.goto(f"{live_server.url}/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", password)
        page.click("main form button[type=submit]")
        page.wait_for_load_state("networkidle")

    return log_in
