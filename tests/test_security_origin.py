"""The WebSocket Origin: scheme, host AND port (issue 22, class 10; docs/security.md).

By default a socket may be opened only by a page of an ALLOWED_HOSTS host on the
scheme and port that served the handshake; ALLOWED_ORIGINS replaces that list behind
a proxy. The rule is tried as a pure function (lists and hypothesis), through the
ASGI application with the scope a server gives, and over a real daphne, where
`http://127.0.0.1:1` was accepted.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.core.exceptions import ImproperlyConfigured
from hypothesis import given, settings
from hypothesis import strategies as st

from config.env import Origin, env_origins, parse_origin
from rooms.origin import origin_allowed, served_origin_parts
from tests import e2e
from tests.conftest import cookie_for

HOSTS = ["localhost", "127.0.0.1"]
PROJECT = Path(__file__).resolve().parent.parent

# Served on http://localhost:8000: the same host on another port or scheme is another site.
OTHER_PORT_OR_SCHEME = [
    "http://localhost",  # port 80
    "http://localhost:80",
    "http://localhost:1",
    "http://localhost:8001",
    "http://localhost:80000",
    "http://127.0.0.1:1",
    "http://127.0.0.1:7999",
    "http://127.0.0.1:18000",
    "http://127.0.0.1:800",
    "https://localhost:8000",  # the scheme
    "https://127.0.0.1:8000",
    "https://localhost",
    "https://localhost:443",
    "HTTPS://localhost:8000",
]
SAME_SITE = ["http://localhost:8000", "http://127.0.0.1:8000", "http://LOCALHOST:8000", "HTTP://localhost:8000"]


@pytest.mark.parametrize("origin", SAME_SITE)
def test_an_allowed_host_on_the_serving_scheme_and_port_is_allowed(origin):
    assert origin_allowed(origin, HOSTS, scheme="http", port=8000)


@pytest.mark.parametrize("origin", OTHER_PORT_OR_SCHEME)
def test_an_allowed_host_on_another_port_or_scheme_is_refused(origin):
    assert not origin_allowed(origin, HOSTS, scheme="http", port=8000)


@pytest.mark.parametrize(
    ("origin", "scheme", "port", "allowed"),
    [
        ("https://localhost", "https", 443, True),
        ("https://localhost:443", "https", 443, True),
        ("http://localhost", "https", 443, False),
        ("http://localhost:443", "https", 443, False),
        ("https://localhost:8443", "https", 443, False),
        ("http://localhost", "http", 80, True),
        ("https://localhost:80", "http", 80, False),
    ],
)
def test_default_ports_are_those_of_the_scheme(origin, scheme, port, allowed):
    assert origin_allowed(origin, HOSTS, scheme=scheme, port=port) is allowed


CLINIC = [Origin("https", "clinic.example", 443), Origin("https", "circle.clinic.example", 8443)]


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("https://clinic.example", True),
        ("https://clinic.example:443", True),
        ("https://CLINIC.example", True),
        ("https://circle.clinic.example:8443", True),
        ("http://clinic.example", False),
        ("http://clinic.example:443", False),
        ("https://clinic.example:8443", False),
        ("https://circle.clinic.example", False),
        ("https://www.clinic.example", False),
        ("https://clinic.example.evil.example", False),
        # the default (the serving host, scheme and port) no longer applies: the list replaces it
        ("http://localhost:8000", False),
        ("http://127.0.0.1:8000", False),
    ],
)
def test_allowed_origins_replace_the_default(origin, allowed):
    assert origin_allowed(origin, HOSTS, scheme="http", port=8000, allowed_origins=CLINIC) is allowed


schemes = st.sampled_from(["http", "https"])
ports = st.integers(min_value=1, max_value=65535)
hosts = st.sampled_from(["localhost", "127.0.0.1", "evil.example", "localhost.evil.example"])


@settings(max_examples=400, deadline=None)
@given(schemes, hosts, ports, schemes, ports)
def test_allowed_exactly_when_scheme_host_and_port_all_match(scheme, host, port, served_scheme, served_port):
    origin = f"{scheme}://{host}:{port}"
    expected = scheme == served_scheme and port == served_port and host in HOSTS
    assert origin_allowed(origin, HOSTS, scheme=served_scheme, port=served_port) is expected


@pytest.mark.parametrize(
    ("scope", "served"),
    [
        ({"scheme": "ws", "server": ("127.0.0.1", 8000)}, ("http", 8000)),
        ({"scheme": "wss", "server": ("10.0.0.5", 8443)}, ("https", 8443)),
        ({"server": ("127.0.0.1", 9000)}, ("http", 9000)),  # ASGI: scheme defaults to ws
        ({"scheme": "wss"}, ("https", 443)),  # no server known (a Unix socket): the scheme's port
        ({"scheme": "ws", "server": ("/run/circle.sock", None)}, ("http", 80)),
    ],
)
def test_the_serving_scheme_and_port_come_from_the_scope(scope, served):
    assert served_origin_parts(scope) == served


@pytest.mark.parametrize(
    ("value", "origins"),
    [
        ("", []),
        ("https://clinic.example", [Origin("https", "clinic.example", 443)]),
        (" https://Clinic.Example , http://10.0.0.5:8000 ", [Origin("https", "clinic.example", 443),
                                                             Origin("http", "10.0.0.5", 8000)]),
    ],
)
def test_allowed_origins_are_read_as_full_origins(monkeypatch, value, origins):
    monkeypatch.setenv("ALLOWED_ORIGINS", value)
    assert env_origins("ALLOWED_ORIGINS") == origins


@pytest.mark.parametrize(
    "value",
    ["clinic.example", "https://clinic.example/", "https://clinic.example/room", "ftp://clinic.example",
     "https://user@clinic.example", "https://clinic.example:99999", "*", "https://*.clinic.example", "null"],
)
def test_an_allowed_origin_that_is_not_an_origin_stops_start_up(monkeypatch, value):
    monkeypatch.setenv("ALLOWED_ORIGINS", value)
    with pytest.raises(ImproperlyConfigured, match="ALLOWED_ORIGINS"):
        env_origins("ALLOWED_ORIGINS")
    assert parse_origin(value) is None


def test_the_settings_read_allowed_origins_from_the_environment():
    env = {**os.environ, "ALLOWED_ORIGINS": "https://clinic.example:8443", "DJANGO_SETTINGS_MODULE": "config.settings",
           "DEBUG": "1"}
    printed = subprocess.run(
        [sys.executable, "-c", "from django.conf import settings; print(settings.ALLOWED_ORIGINS)"],
        env=env, cwd=PROJECT, capture_output=True, text=True, check=True,
    ).stdout
    assert "Origin(scheme='https', host='clinic.example', port=8443)" in printed


# ---------------------------------------------------------------- through the ASGI application


async def handshake(origin: str, cookie: str, session_id: int, scope: dict) -> bool:
    from config.asgi import application

    communicator = WebsocketCommunicator(
        application, f"/ws/sessions/{session_id}/", headers=[(b"cookie", cookie.encode()), (b"origin", origin.encode())]
    )
    communicator.scope.update(scope)  # type: ignore[typeddict-item]  # a test's partial scope (typed as a plain dict)
    connected, _ = await communicator.connect(timeout=5)
    await communicator.disconnect()
    return connected


@pytest.mark.django_db(transaction=True)
async def test_the_application_checks_the_port_and_scheme_it_was_served_on(group, alex, settings):
    cookie = await sync_to_async(cookie_for)(alex)
    served = {"scheme": "ws", "server": ("127.0.0.1", 8000)}
    assert await handshake("http://localhost:8000", cookie, group.pk, served)
    for origin in OTHER_PORT_OR_SCHEME[:6]:
        assert not await handshake(origin, cookie, group.pk, served), origin
    settings.ALLOWED_ORIGINS = [Origin("https", "clinic.example", 443)]
    assert await handshake("https://clinic.example", cookie, group.pk, served)
    assert not await handshake("http://localhost:8000", cookie, group.pk, served)


# ---------------------------------------------------------------- a real daphne

database = e2e.sqlite_db
daphne = e2e.daphne


@pytest.mark.e2e
@pytest.mark.slow
async def test_a_real_server_refuses_its_own_host_on_another_port_or_scheme(database, daphne):
    env = e2e.server_env(database)
    clinic = e2e.provision(env, facilitator="dana", patients=["alex"], title="Origins")
    server = daphne(env, name="daphne-origin")
    port = int(server.base_url.rsplit(":", 1)[1])
    cookie = await asyncio.to_thread(e2e.login, server.base_url, "alex")
    own = await e2e.ws_connect(server.base_url, clinic.session_id, cookie, name="own page")
    assert own.close_code is None and own.state["type"] == "session.state"
    await own.close()
    foreign = [
        "http://127.0.0.1:1", "http://127.0.0.1", f"http://127.0.0.1:{port + 1}", f"https://127.0.0.1:{port}",
        f"http://localhost:{port - 1}", "https://localhost", f"http://evil.example:{port}", "null",
    ]
    for origin in foreign:
        refused = await e2e.ws_connect(server.base_url, clinic.session_id, cookie, origin=origin)
        assert refused.close_code == 403, f"{origin} was let in on port {port}"
    same_site = await e2e.ws_connect(server.base_url, clinic.session_id, cookie, origin=f"http://localhost:{port}")
    assert same_site.close_code is None
    await same_site.close()
    server.terminate()

    # Behind a proxy: the list replaces the default, and the server's own address is no longer enough.
    proxied = daphne(e2e.server_env(database, ALLOWED_ORIGINS="https://clinic.example"), name="daphne-proxied")
    cookie = await asyncio.to_thread(e2e.login, proxied.base_url, "alex")
    direct = await e2e.ws_connect(proxied.base_url, clinic.session_id, cookie)
    assert direct.close_code == 403
    through_proxy = await e2e.ws_connect(proxied.base_url, clinic.session_id, cookie, origin="https://clinic.example")
    assert through_proxy.close_code is None
    await through_proxy.close()
