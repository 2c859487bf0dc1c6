"""Logs never contain message text, passwords, join tokens or cookies.

Two captures of a whole session: a real daphne (its stdout and stderr: Django's
logging at DEBUG plus daphne's own access log), and the in-process ASGI
application with every Django, Channels, daphne and Circle logger at DEBUG,
written through the configured handler. Each is searched for every secret the
session handled.
"""

from __future__ import annotations

import asyncio
import base64
import io
import logging
import re
from collections.abc import Iterator
from urllib.parse import urlencode

import pytest
from asgiref.sync import sync_to_async
from django.test import Client
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from config.security import RedactingFormatter, percent_decoded, redact
from rooms.actions.guests import do_create_invite
from tests import e2e
from tests.conftest import PASSWORD, participant

database = e2e.sqlite_db
daphne = e2e.daphne

WRONG_PASSWORD = "not-my-password-Zq81"


def texts(tag: str) -> dict[str, str]:
    """Message texts that would be unmistakable in a log."""
    return {
        "patient message": f"{tag} I drank again on Friday after 90 days",
        "facilitator message": f"{tag} Thank you for telling us, Alex",
        "private line": f"{tag} Please call me after group, my sponsor left",
        "after admission": f"{tag} Welcome Pat, we are glad you came",
    }


def assert_clean(log: str, secrets: dict[str, str]) -> None:
    found = {name: value for name, value in secrets.items() if value and value in log}
    assert found == {}, f"secrets in the log: {sorted(found)}\n--- log\n{log}"


def form_token(page: str) -> str:
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert found, "no CSRF token in the page"
    return found.group(1)


# ---------------------------------------------------------------- a real daphne


def post_form(base_url: str, path: str, fields: dict[str, str], cookie: str) -> tuple[int, dict[str, str]]:
    status, headers, _ = e2e.http_request(
        base_url,
        "POST",
        path,
        body=urlencode(fields).encode(),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": cookie,
            "Origin": base_url,
            "Referer": f"{base_url}{path}",
        },
    )
    return status, e2e._cookies(headers)


def redeem(base_url: str, join_path: str) -> tuple[str, str]:
    """The guest's browser: the join form, then its POST. Returns (cookie header, csrf cookie value)."""
    status, headers, page = e2e.http_request(base_url, "GET", join_path)
    assert status == 200, status
    csrf = e2e._cookies(headers)["csrftoken"]
    fields = {
        "display_name": "Pat",
        "accept_rules": "on",
        "relationship": "spouse",
        "csrfmiddlewaretoken": form_token(page),
    }
    status, cookies = post_form(base_url, join_path, fields, f"csrftoken={csrf}")
    assert status == 302 and cookies.get("sessionid"), status
    return f"sessionid={cookies['sessionid']}", csrf


def sign_out(base_url: str, cookie: str) -> None:
    status, headers, page = e2e.http_request(base_url, "GET", "/", headers={"Cookie": cookie})
    assert status == 200, status
    csrf = e2e._cookies(headers).get("csrftoken") or ""
    status, _ = post_form(
        base_url, "/accounts/logout/", {"csrfmiddlewaretoken": form_token(page)}, f"{cookie}; csrftoken={csrf}"
    )
    assert status == 302, status


@pytest.mark.e2e
@pytest.mark.slow
async def test_a_real_servers_logs_hold_no_secrets(database, daphne):
    env = e2e.server_env(database, LOG_LEVEL="DEBUG", SOCKET_RECHECK_SECONDS="1")
    clinic = e2e.provision(env, facilitator="dana", patients=["alex", "sam"], title="Log audit", allow_guests=True)
    join_path = e2e.invite_guest(env, clinic.session_id, for_patient="alex", name="Pat")
    token = join_path.strip("/").split("/")[-1]
    server = daphne(env, name="daphne-logs")
    base = server.base_url
    said = texts("LOGPROBE")

    # A failed sign-in first: the typed password must not be logged either.
    status, headers, page = e2e.http_request(base, "GET", "/accounts/login/")
    csrf = e2e._cookies(headers)["csrftoken"]
    fields = {"username": "alex", "password": WRONG_PASSWORD, "csrfmiddlewaretoken": form_token(page)}
    assert post_form(base, "/accounts/login/", fields, f"csrftoken={csrf}")[0] == 200

    dana_cookie = await asyncio.to_thread(e2e.login, base, "dana")
    alex_cookie = await asyncio.to_thread(e2e.login, base, "alex")
    dana = await e2e.ws_connect(base, clinic.session_id, dana_cookie, name="dana")
    alex = await e2e.ws_connect(base, clinic.session_id, alex_cookie, name="alex")
    try:
        assert (await dana.request("session.start"))["type"] == "ack"
        assert (await dana.request("mode.set", mode="open"))["type"] == "ack"
        assert (await alex.request("chat.send", text=said["patient message"]))["type"] == "ack"
        assert (await dana.request("chat.send", text=said["facilitator message"]))["type"] == "ack"
        assert (await alex.request("chat.send", text=said["private line"], to="facilitators"))["type"] == "ack"
        guest_cookie, guest_csrf = await asyncio.to_thread(redeem, base, join_path)
        guest = await e2e.ws_connect(base, clinic.session_id, guest_cookie, name="guest")
        assert guest.close_code is None and guest.state["messages"] == []
        waiting = await dana.receive_type("lobby.waiting")
        assert (await dana.request("lobby.admit", participant_id=waiting["participant"]["participant_id"]))[
            "type"
        ] == "ack"
        await guest.receive_type("session.state")
        assert (await dana.request("chat.send", text=said["after admission"]))["type"] == "ack"
        await guest.receive_type("chat.message")
        # The spent link again (410), and a made-up one (404): both log a warning with the path.
        assert (await asyncio.to_thread(e2e.http_request, base, "GET", join_path))[0] == 410
        made_up = "Zz" * 16
        assert (await asyncio.to_thread(e2e.http_request, base, "GET", f"/join/{made_up}/"))[0] == 404
        # Alex signs out: the socket closes with 4401.
        await asyncio.to_thread(sign_out, base, alex_cookie)
        assert await alex.wait_closed(5) == 4401
    finally:
        await e2e.close_all([dana, alex, *([guest] if "guest" in locals() else [])])
    server.terminate()
    log = server.log_text()
    e2e.assert_no_traceback(log)
    # The probe saw what it should: Django's warnings and daphne's access log, each with the path redacted.
    assert "WARNING django.request Gone: /join/[redacted]/" in log
    assert '"GET /join/[redacted]/" 200' in log and '"WSCONNECT /ws/sessions/' in log
    secrets = {
        **said,
        "password": PASSWORD_E2E,
        "typed wrong password": WRONG_PASSWORD,
        "join token": token,
        "made-up token": made_up,
        "dana's cookie": dana_cookie.split("=", 1)[1],
        "alex's cookie": alex_cookie.split("=", 1)[1],
        "guest's cookie": guest_cookie.split("=", 1)[1],
        "guest's csrf cookie": guest_csrf,
        "csrf cookie": csrf,
    }
    assert_clean(log, secrets)


PASSWORD_E2E = e2e.PASSWORD


# ---------------------------------------------------------------- in-process, every logger at DEBUG


LOGGER_NAMES = [
    "",
    "django",
    "django.request",
    "django.server",
    "django.security",
    "django.channels.server",
    "channels",
    "daphne",
    "asyncio",
    "rooms",
    "accounts",
    "facilitator",
    "moderation",
    "config",
]


@pytest.fixture
def debug_capture() -> Iterator[io.StringIO]:
    """Every logger at DEBUG, written by Circle's configured console handler (and its formatter) into a buffer.

    django.db.backends keeps its configured level: the settings pin it to INFO because,
    with DEBUG on, it would log SQL with its parameters (test_sql_logging_is_pinned_off).
    """
    import config.asgi  # noqa: F401 - its django.setup() reconfigures logging: do that before taking the handler

    buffer = io.StringIO()
    root = logging.getLogger()
    configured = [
        h for h in root.handlers if isinstance(h, logging.StreamHandler) and isinstance(h.formatter, RedactingFormatter)
    ]
    assert configured, "Circle's LOGGING has no console handler"
    handler = configured[0]
    old_stream = handler.setStream(buffer)
    old_levels = {name: logging.getLogger(name).level for name in LOGGER_NAMES}
    old_handler_level = handler.level
    handler.setLevel(logging.DEBUG)
    for name in LOGGER_NAMES:
        logging.getLogger(name).setLevel(logging.DEBUG)
    try:
        yield buffer
    finally:
        handler.setStream(old_stream)
        handler.setLevel(old_handler_level)
        for name, level in old_levels.items():
            logging.getLogger(name).setLevel(level)


def test_sql_logging_is_pinned_off_and_django_logs_only_through_the_redacting_handler(settings):
    assert settings.LOGGING["loggers"]["django.db.backends"]["level"] == "INFO"
    for name in ("django", "django.server"):
        assert logging.getLogger(name).handlers == [], name
    assert all(
        isinstance(h.formatter, RedactingFormatter)
        for h in logging.getLogger().handlers
        if type(h) is logging.StreamHandler
    )


@pytest.mark.django_db(transaction=True)
async def test_in_process_debug_logs_hold_no_secrets(debug_capture, connect, live_group, dana, alex, settings):
    settings.DEBUG = True  # the development setting, where Django logs the most
    said = texts("INPROC")
    # A failed and a successful sign-in through the real login view.
    browser = Client()
    await sync_to_async(browser.post)("/accounts/login/", {"username": "alex", "password": WRONG_PASSWORD})
    response = await sync_to_async(browser.post)("/accounts/login/", {"username": "alex", "password": PASSWORD})
    assert response.status_code == 302
    alex_cookie = f"sessionid={browser.cookies['sessionid'].value}"
    dana_peer, _ = await connect(dana, live_group.pk)
    alex_peer, _ = await connect(alex_cookie, live_group.pk)
    await live_group.__class__.objects.filter(pk=live_group.pk).aupdate(mode="open")
    assert (await alex_peer.request("chat.send", text=said["patient message"]))["type"] == "ack"
    assert (await dana_peer.request("chat.send", text=said["facilitator message"]))["type"] == "ack"
    assert (await alex_peer.request("chat.send", text=said["private line"], to="facilitators"))["type"] == "ack"
    # A guest redeems a link through the join view, is admitted, and the spent link is tried again.
    lead = await sync_to_async(participant)(live_group, dana)
    host = await sync_to_async(participant)(live_group, alex)
    _, token = await sync_to_async(do_create_invite)(live_group.pk, lead.pk, host.pk, "Pat", timezone.now())
    guest_browser = Client()
    redeemed = await sync_to_async(guest_browser.post)(
        f"/join/{token}/", {"display_name": "Pat", "accept_rules": "on", "relationship": "spouse"}
    )
    assert redeemed.status_code == 302
    guest_cookie = f"sessionid={guest_browser.cookies['sessionid'].value}"
    _guest_peer, closed = await connect(guest_cookie, live_group.pk)
    assert closed is None
    waiting = await dana_peer.receive_type("lobby.waiting")
    assert (await dana_peer.request("lobby.admit", participant_id=waiting["participant"]["participant_id"]))[
        "type"
    ] == "ack"
    assert (await dana_peer.request("chat.send", text=said["after admission"]))["type"] == "ack"
    assert (await sync_to_async(guest_browser.get)(f"/join/{token}/")).status_code == 410
    # Malformed and oversized frames, and a refused action, are logged (if at all) without their content.
    await alex_peer.send(type="chat.send", text=said["patient message"] + "x" * 3000)
    await alex_peer.communicator.send_to(text_data='{"type": "chat.send", "text": "' + said["private line"] + '"')
    # Alex signs out: the socket closes.
    await sync_to_async(browser.post)("/accounts/logout/")
    _, code = await alex_peer.until_close()
    assert code == 4401
    log = debug_capture.getvalue()
    assert "/join/[redacted]" in log, f"the capture saw no join warning:\n{log}"
    secrets = {
        **said,
        "password": PASSWORD,
        "typed wrong password": WRONG_PASSWORD,
        "join token": token,
        "alex's cookie": alex_cookie.split("=", 1)[1],
        "guest's cookie": guest_cookie.split("=", 1)[1],
    }
    assert_clean(log, secrets)


# ---------------------------------------------------------------- the token's shape, whatever the path (issue 22)


def leaking_requests(token: str, password: str, cookie_value: str) -> list[tuple[str, str]]:
    """(method, raw request target) pairs that each carry a secret past a prefix-based redaction."""
    encoded = "".join(f"%{ord(char):02X}" for char in token)
    half = len(token) // 2
    return [
        ("GET", f"/JOIN/{token}/"),
        ("GET", f"/Join/{token}"),
        ("GET", f"//join/{token}/"),
        ("GET", f"/join//{token}/"),
        ("GET", f"///join///{token}"),
        ("GET", f"/join%2F{token}/"),
        ("GET", f"/join%2f{token}/"),
        ("GET", f"/join/%2F{token}/"),
        ("GET", f"/join/%20{token}/"),
        ("GET", f"/join/%09{token}/"),
        ("GET", f"/join/%2520{token}/"),
        ("GET", f"/join/%252F{token}/"),
        ("GET", f"/join/{encoded}/"),  # Django decodes this to the very token: the form answers 200
        ("GET", f"/join/{token[:half]}{encoded[3 * half:]}/"),
        ("GET", f"/%6Aoin/{token}/"),
        ("GET", f"/join/{token}%00/"),
        ("GET", f"/join/{token};x=1"),
        ("GET", f"/join/{token}/?utm=1"),
        ("GET", f"/?next=/join/{token}/"),
        ("GET", f"/accounts/login/?next=%2Fjoin%2F{token}%2F"),
        ("GET", f"/static/../join/{token}/"),
        ("GET", f"/join/{token}.html"),
        ("GET", f"/join/x{token}x/"),
        ("HEAD", f"/join/{token}/"),
        ("POST", f"/join/{token}/"),  # no CSRF cookie: 403, logged by django.security.csrf
        ("POST", f"/JOIN/%20{token}/"),
        ("GET", f"/ws/sessions/1/?token={token}"),
        ("GET", f"/accounts/login/?password={password}"),
        ("GET", f"/accounts/login/?PASSWORD={password}"),
        ("GET", f"/accounts/login/?pass%77ord={password}"),
        ("GET", f"/?sessionid={cookie_value}"),
        ("GET", f"/?SessionID={cookie_value}"),
        ("GET", f"/?x=1&csrftoken={cookie_value}"),
    ]


@pytest.mark.e2e
@pytest.mark.slow
async def test_join_tokens_passwords_and_cookies_are_redacted_whatever_the_path(database, daphne):
    env = e2e.server_env(database, LOG_LEVEL="DEBUG")
    # Other people than the module's other real-server test: the two share its database.
    clinic = e2e.provision(env, facilitator="drew", patients=["ash"], title="Log paths", allow_guests=True)
    join_path = e2e.invite_guest(env, clinic.session_id, for_patient="ash", name="Pat")
    token = join_path.strip("/").split("/")[-1]
    server = daphne(env, name="daphne-log-paths")
    base = server.base_url
    cookie_value = (await asyncio.to_thread(e2e.login, base, "ash")).split("=", 1)[1]
    password = "Hunter2-typed-in-a-url"
    requests = leaking_requests(token, password, cookie_value)
    for method, target in requests:
        status, _, _ = await asyncio.to_thread(e2e.http_request, base, method, target)
        assert status < 500, f"{method} {target} -> {status}"
    refused = await e2e.ws_connect(base, clinic.session_id, None, since=None, origin=None)
    assert refused.close_code is not None
    # The pass is not spent by any of it: whoever read a leaked token could redeem it.
    assert (await asyncio.to_thread(e2e.http_request, base, "GET", join_path))[0] == 200
    server.terminate()
    log = server.log_text()
    e2e.assert_no_traceback(log)
    # Every request was written to the access log (so the check below looked at something).
    assert log.count("[redacted]") >= len(requests), log
    encoded = "".join(f"%{ord(char):02X}" for char in token)
    secrets = {
        "join token": token,
        "join token, percent-encoded": encoded,
        "join token, lower case": token.lower(),
        "password": password,
        "session cookie": cookie_value,
    }
    found = {name: value for name, value in secrets.items() if value.lower() in log.lower()}
    assert found == {}, f"secrets in the log: {sorted(found)}\n--- log\n{log}"
    halves = [token[: len(token) // 2], token[len(token) // 2 :]]
    assert not all(half in log for half in halves), "both halves of the token are in the log"


# The same in-process: every leaking request line, for many tokens, through `redact` (daphne's
# access log and Circle's formatter both call it) and through the formatter as Django logs a 404.

DECORATIONS = [
    "GET /JOIN/{t}/", "GET //join/{t}/", "GET /join%2F{t}", "GET /join/%20{t}", "GET /join/{e}/",
    "GET /%6Aoin/{t}", "GET /join/%252F{t}", "GET /?next=%2Fjoin%2F{t}%2F", "WSCONNECT /ws/sessions/3/?t={t}",
    'Referer: "http://localhost:8000/join/{t}/"', "Not Found: /join/ {t}/",
    "Forbidden (CSRF cookie not set.): /JOIN/{t}",
    "GET /join/{t}%0A/", "GET /join/{t}", "{t}", "x{t}x", "GET /join/{t}.{t}/",
]


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=24, max_size=24), st.sampled_from(DECORATIONS))
def test_a_token_of_any_bytes_in_any_decoration_is_redacted(raw, decoration):
    token = base64.urlsafe_b64encode(raw).decode().rstrip("=")  # what secrets.token_urlsafe(24) returns
    encoded = "".join(f"%{ord(char):02X}" for char in token)
    line = redact(decoration.format(t=token, e=encoded))
    assert token not in line and encoded not in line and token not in percent_decoded(line), line


@pytest.mark.parametrize(
    "line",
    [
        "GET /static/circle/dashboard.js",
        "GET /sessions/12/transcript/?format=txt",
        "GET /attendance/?from=2026-12-01&to=2026-12-31&format=csv",
        'File "/work/main/.venv/lib/python3.11/site-packages/channels_redis/core.py", line 3, in receive',
        "rooms.core_layer.BatchedRedisChannelLayer: psycopg.OperationalError: connection refused",
        "WSCONNECT /ws/sessions/12/?since=1200",
    ],
)
def test_ordinary_lines_stay_readable(line):
    assert redact(line) == line


@pytest.mark.parametrize(
    ("line", "secret"),
    [
        ("GET /accounts/login/?pass%77ord=Hunter2-typed", "Hunter2-typed"),
        ("GET /accounts/login/?%70assword=Hunter2-typed", "Hunter2-typed"),
        ("GET /?%73essionid=abcdefgh", "abcdefgh"),
        ("GET /?PassWord=Hunter2-typed", "Hunter2-typed"),
    ],
)
def test_named_credentials_are_redacted_also_with_encoded_names(line, secret):
    redacted = redact(line)
    assert secret not in redacted and "\n" not in redacted


def test_a_decoded_line_break_cannot_forge_a_log_line():
    assert "\n" not in redact("GET /accounts/login/?pass%77ord=x%0A127.0.0.1 GET /forged")


def test_the_formatter_redacts_a_404_of_an_encoded_path(debug_capture):
    token = "q8Jx3kVbN0aP-l2tW9zY_rS4uE6iO7pA"
    response = Client().get(f"/JOIN/%20{token}/")
    assert response.status_code == 404
    log = debug_capture.getvalue()
    assert "Not Found" in log and token not in log, log
