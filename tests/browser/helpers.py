"""Helpers for the browser tests: accessibility checks, raw WebSocket clients, waiting for the room."""

from __future__ import annotations

import asyncio
import hashlib
import threading
from collections.abc import Coroutine
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

from tests import e2e
from tests.browser.conftest import sign_in

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
AXE_VERSION = "4.14.1"
AXE_SHA256 = "29348999450cdf2849a8e70b7912fc2da85a849da39c0d0d5394f51d4a9ed95c"
T = TypeVar("T")

# WCAG 2.x A and AA, plus axe's best practices; only serious and critical findings fail a test.
AXE_RUN = """
async () => {
  const results = await axe.run(document, {
    runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']},
    resultTypes: ['violations'],
  });
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => ({id: v.id, impact: v.impact, help: v.help,
                  nodes: v.nodes.slice(0, 5).map((n) => n.target.join(' ') + ' :: ' + n.failureSummary)}));
}
"""


@cache
def axe_source() -> str:
    raw = AXE.read_bytes()
    assert hashlib.sha256(raw).hexdigest() == AXE_SHA256, f"{AXE} is not the pinned axe-core {AXE_VERSION}"
    return raw.decode()


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """Serious and critical axe-core violations on the page as it is now."""
    # page.evaluate runs through the DevTools protocol, so the page's strict CSP does not stop it.
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(axe_source())
    return page.evaluate(AXE_RUN)


def assert_accessible(page: Any, where: str) -> None:
    found = axe_violations(page)
    width = page.viewport_size["width"] if page.viewport_size else "?"
    lines = [f"{v['impact']}: {v['id']} ({v['help']})\n    " + "\n    ".join(v["nodes"]) for v in found]
    assert not found, f"axe-core found serious or critical problems on {where} at {width} px:\n" + "\n".join(lines)


# The two widths every page is checked at: a laptop and a 360 px phone.
WIDTHS = ((1280, 900), (360, 780))


def check_both_widths(page: Any, where: str, *, then: tuple[int, int] | None = None) -> None:
    """No serious axe-core finding on `page` at either width; `then`: the size to leave it at afterwards."""
    for width, height in WIDTHS:
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(50)  # one layout pass
        assert_accessible(page, where)
    if then is not None:
        page.set_viewport_size({"width": then[0], "height": then[1]})


def room_ready(page: Any) -> None:
    """Wait until the room page has its first session.state."""
    from playwright.sync_api import expect

    # (expect, not wait_for_function: a string predicate would need eval, which the page's CSP forbids.)
    expect(page.locator("#room-status")).not_to_have_text("Connecting…")


def enter_room(page: Any, base_url: str, username: str, session_id: int) -> None:
    """Sign in as `username` and open the session's room, ready."""
    sign_in(page, base_url, username)
    page.goto(f"{base_url}/sessions/{session_id}/")
    room_ready(page)


def start_open_conversation(facilitator: Any, *patients: Any) -> None:
    """The facilitator starts the session and opens the floor to everyone; each patient's page shows it live."""
    from playwright.sync_api import expect

    facilitator.get_by_role("button", name="Start the session").click()
    facilitator.get_by_role("button", name="Everyone", exact=True).click()
    for page in patients:
        expect(page.locator("#room-status")).to_have_text("Live · Open conversation")


def open_room_with_alex_routed(circle: Any, open_page: Any, title: str, route: Any) -> tuple[int, Any, Any]:
    """A new session, live and open, with Dana's page and Alex's, whose room socket goes through `route`.

    `route` is a `page.route_web_socket` handler: it stands between Alex's page and
    daphne (to hold back, drop or cut what passes). Returns the session and both pages.
    """
    session_id = circle.schedule(title)
    dana, alex = open_page(1280, 860), open_page(360, 780)
    alex.route_web_socket("**/ws/sessions/**", route)
    for page, username in ((dana, "dana"), (alex, "alex")):
        enter_room(page, circle.base_url, username, session_id)
    start_open_conversation(dana, alex)
    return session_id, dana, alex


class RawClients:
    """Raw WebSocket clients (tests/e2e.py) on an event loop of their own, for sync Playwright tests."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="raw-websockets", daemon=True)
        self.thread.start()
        self.clients: list[e2e.Client] = []

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float = 15) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def connect(self, session_id: int, username: str, since: int | None = None) -> e2e.Client:
        cookie = e2e.login(self.base_url, username)
        client = self.run(e2e.ws_connect(self.base_url, session_id, cookie, since=since, name=username))
        assert client.close_code is None, f"{username} was refused: {client.close_code}"
        self.clients.append(client)
        return client

    def request(self, client: e2e.Client, frame_type: str, **fields: Any) -> dict[str, Any]:
        reply = self.run(client.request(frame_type, **fields))
        assert reply["type"] == "ack", f"{client.name}: {frame_type} refused: {reply}"
        return reply

    def close(self) -> None:
        self.run(e2e.close_all(self.clients))
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


FOCUSED = """
() => {
  const el = document.activeElement;
  const style = getComputedStyle(el);
  const box = el.getBoundingClientRect();
  return {
    where: el.id ? '#' + el.id : el.tagName.toLowerCase() + ' ' + (el.textContent || '').trim().slice(0, 40),
    outline: style.outlineStyle, width: parseFloat(style.outlineWidth) || 0,
    visible: box.width > 0 && box.height > 0,
    left: el === document.body || !document.hasFocus(),
  };
}
"""


def tab_through(page: Any, stops: int) -> list[str]:
    """Press Tab up to `stops` times on a freshly loaded page; every stop must show a visible focus ring.

    Returns where focus went, so a test can check that the controls it needs are reachable.
    """
    page.bring_to_front()  # keyboard focus belongs to one page at a time
    seen = []
    for _ in range(stops):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        if focused["left"]:
            break  # past the last control: focus went back to the browser
        assert focused["visible"], f"focus went to something invisible: {focused}"
        assert focused["outline"] not in ("none", "") and focused["width"] >= 2, f"no visible focus on {focused}"
        seen.append(focused["where"])
    return seen
