"""Browser tests: real daphne (tests/e2e.py), real Chromium (Debian's, through Playwright).

One migrated SQLite database is made per run and copied for each server, so
a server costs a daphne start, not a migration. Provisioning goes through the
contract's management commands only; people then act through the pages.

Without /usr/bin/chromium the tests skip with a reason, except with CI=true,
where that is a failure. `UPDATE_SCREENSHOTS=1` writes the README's
screenshots to docs/screenshots/ (otherwise they go to a temporary folder,
so a test run never dirties the working tree).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests import e2e

CHROMIUM = Path(os.environ.get("CIRCLE_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "docs" / "screenshots"
PATIENTS = ("alex", "sam", "jordan")
# Display names as the pages show them.
NAMES = {"dana": "Dana", "alex": "Alex", "sam": "Sam", "jordan": "Jordan"}

# Collects what a page must never see: CSP violations and uncaught errors.
WATCH_SCRIPT = """
window.__circleProblems = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__circleProblems.push('CSP blocked ' + e.violatedDirective + ' ' + e.blockedURI);
});
window.__xss = [];
"""


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    if not CHROMIUM.exists():
        reason = f"browser tests need Debian's Chromium at {CHROMIUM} (apt-get install chromium)"
        if _in_ci():
            pytest.fail(f"CI=true but {reason}", pytrace=False)
        pytest.skip(reason)
    return CHROMIUM


@pytest.fixture(scope="session")
def browser(chromium_path: Path) -> Iterator[Any]:
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=10_000)  # a loaded CI machine is slower than a laptop

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(chromium_path), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


# ---------------------------------------------------------------- servers


CLINIC = [e2e.Person("dana", "facilitator", NAMES["dana"])] + [e2e.Person(p, "patient", NAMES[p]) for p in PATIENTS]


@pytest.fixture(scope="session")
def clinic_database(tmp_path_factory: pytest.TempPathFactory, chromium_path: Path) -> Path:
    """Migrated, with the clinic's members created by `create_member`; every server gets a copy."""
    url = e2e.sqlite_database(tmp_path_factory.mktemp("browser-db-template"))
    e2e.create_members(e2e.server_env(url), CLINIC)
    return Path(url.removeprefix("sqlite:///"))


@dataclass
class Circle:
    """A running Circle with a clinic: Dana facilitates Alex, Sam and Jordan."""

    server: e2e.ServerProcess
    env: dict[str, str]
    people: dict[str, e2e.Person] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return self.server.base_url

    def schedule(self, title: str, **options: Any) -> int:
        return e2e.schedule_session(
            self.env, title=title, facilitator="dana", patients=PATIENTS, allow_guests=True, **options
        )

    def restart(self) -> None:
        """SIGKILL daphne (every connection drops at once), then start it again on the same port and database."""
        self.server.kill()
        self.server = e2e.ServerProcess(self.env, name=self.server.name, port=self.server.port).start()


def start_circle(template: Path, directory: Path, name: str, **settings: Any) -> Circle:
    database = directory / f"circle-{secrets.token_hex(4)}.sqlite3"
    shutil.copyfile(template, database)
    env = e2e.server_env(f"sqlite:///{database}", **settings)
    server = e2e.ServerProcess(env, name=name).start()
    return Circle(server, env, {p.username: p for p in CLINIC})


@pytest.fixture(scope="session")
def circle(clinic_database: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Circle]:
    """The shared server of the browser tests (each test schedules its own session)."""
    running = start_circle(clinic_database, tmp_path_factory.mktemp("browser-db"), "daphne-browser", CHAT_RATE_LIMIT=50)
    yield running
    running.server.terminate()
    e2e.assert_no_traceback(running.server.log_text(), name="daphne-browser")


@pytest.fixture
def own_circle(clinic_database: Path, tmp_path: Path) -> Iterator[Circle]:
    """A server of the test's own, for tests that kill it."""
    running = start_circle(clinic_database, tmp_path, "daphne-restartable")
    yield running
    running.server.terminate()
    e2e.assert_no_traceback(running.server.log_text(), name="daphne-restartable")


# ---------------------------------------------------------------- pages


@pytest.fixture
def open_page(browser: Any) -> Iterator[Any]:
    """open_page(width=1280, height=860, locale="en-US") -> a page in a fresh browser context (its own
    cookies); `locale` is the browser's language (its Accept-Language and navigator.language)."""
    contexts: list[Any] = []
    pages: list[Any] = []

    def _open(width: int = 1280, height: int = 860, locale: str = "en-US") -> Any:
        context = browser.new_context(
            viewport={"width": width, "height": height}, device_scale_factor=1, locale=locale
        )
        context.add_init_script(WATCH_SCRIPT)
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        page.circle_errors = []
        page.on("pageerror", lambda error, page=page: page.circle_errors.append(f"page error: {error}"))
        page.on("dialog", lambda dialog, page=page: on_dialog(page, dialog))
        pages.append(page)
        return page

    yield _open
    problems = []
    for page in pages:
        problems += page.circle_errors
        with contextlib.suppress(Exception):  # a page the test closed has nothing more to report
            problems += page.evaluate("window.__circleProblems || []")
    for context in contexts:
        context.close()
    assert not problems, "the pages hit problems:\n" + "\n".join(problems)


def on_dialog(page: Any, dialog: Any) -> None:
    """No page of Circle opens alert/confirm/prompt; one that does (an XSS payload, say) fails the test."""
    page.circle_errors.append(f"dialog: {dialog.message}")
    dialog.dismiss()


def sign_in(page: Any, base_url: str, username: str, password: str = e2e.PASSWORD) -> None:
    """Through the login form, as a person would."""
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base_url}/")


def screenshot_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        return SCREENSHOTS
    return tmp_path_factory.mktemp("screenshots")


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return screenshot_dir(tmp_path_factory)
