"""Hardened by default: deploy checks, headers, cookies, the channel layer's encryption and TLS, log redaction."""

from __future__ import annotations

import json
import re
import secrets
import ssl
import subprocess
import sys
import uuid
from pathlib import Path
from typing import cast

import pytest
from django.test import Client

from config.env import channel_layers_from_url
from config.security import content_security_policy, redact
from tests.services import redis_url

REPO = Path(__file__).resolve().parent.parent


def run_settings(env: dict[str, str], code: str) -> subprocess.CompletedProcess[str]:
    """Run `code` with Circle's real settings (config.settings) under exactly `env`."""
    base = {"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "config.settings"}
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


PRODUCTION = {
    "DEBUG": "0",
    "HTTPS": "1",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "circle.clinic.example",
    # A production clinic sends reminders; without it the program's check warns (program.W001).
    "EMAIL_URL": "smtp+tls://circle:pw@mail.clinic.example:587",
}


# ---------------------------------------------------------------- manage.py check --deploy


def test_production_settings_pass_check_deploy_without_a_warning():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPO,
        env={"PATH": "/usr/bin:/bin", **PRODUCTION},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_settings_values():
    code = (
        "import django, json; django.setup(); from django.conf import settings as s;"
        "print(json.dumps({k: getattr(s, k) for k in ["
        "'SESSION_COOKIE_SECURE','CSRF_COOKIE_SECURE','SESSION_COOKIE_HTTPONLY','CSRF_COOKIE_HTTPONLY',"
        "'SESSION_COOKIE_SAMESITE','CSRF_COOKIE_SAMESITE','SECURE_SSL_REDIRECT','SECURE_HSTS_SECONDS',"
        "'SECURE_HSTS_INCLUDE_SUBDOMAINS','SECURE_PROXY_SSL_HEADER','X_FRAME_OPTIONS','SECURE_REFERRER_POLICY',"
        "'SECURE_CONTENT_TYPE_NOSNIFF','DEBUG']}))"
    )
    result = run_settings(PRODUCTION, code)
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    assert values == {
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "CSRF_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "CSRF_COOKIE_SAMESITE": "Lax",
        "SECURE_SSL_REDIRECT": True,
        "SECURE_HSTS_SECONDS": 31536000,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"],
        "X_FRAME_OPTIONS": "DENY",
        "SECURE_REFERRER_POLICY": "same-origin",
        "SECURE_CONTENT_TYPE_NOSNIFF": True,
        "DEBUG": False,
    }


def test_production_refuses_to_start_without_a_secret_key():
    result = run_settings({"DEBUG": "0"}, "import django; django.setup()")
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


# ---------------------------------------------------------------- behind TLS (HTTPS=1), in-process


@pytest.fixture
def https_on(settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_HSTS_PRELOAD = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SESSION_COOKIE_SECURE = True
    settings.CSRF_COOKIE_SECURE = True
    return settings


@pytest.mark.django_db
def test_https_redirects_plain_http_and_trusts_the_proxy_header(https_on, alex):
    client = Client()
    plain = client.get("/accounts/login/")
    assert plain.status_code == 301 and plain["Location"] == "https://testserver/accounts/login/"
    behind_proxy = client.get("/accounts/login/", HTTP_X_FORWARDED_PROTO="https")
    assert behind_proxy.status_code == 200
    assert behind_proxy["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert "ws://" not in behind_proxy["Content-Security-Policy"]  # only wss:// behind TLS
    signed_in = client.post(
        "/accounts/login/", {"username": "alex", "password": "a-long-test-password-1"}, HTTP_X_FORWARDED_PROTO="https"
    )
    assert signed_in.status_code == 302
    session = signed_in.cookies["sessionid"]
    assert session["secure"] and session["httponly"] and session["samesite"] == "Lax"
    csrf = behind_proxy.cookies["csrftoken"]
    assert csrf["secure"] and csrf["httponly"]


@pytest.mark.django_db
def test_plain_http_on_loopback_keeps_working_by_default(alex):
    client = Client()
    page = client.get("/accounts/login/", REMOTE_ADDR="127.0.0.1")
    assert page.status_code == 200
    assert "Strict-Transport-Security" not in page
    signed_in = client.post("/accounts/login/", {"username": "alex", "password": "a-long-test-password-1"})
    assert signed_in.status_code == 302
    session = signed_in.cookies["sessionid"]
    assert not session["secure"] and session["httponly"] and session["samesite"] == "Lax"
    assert client.get("/").status_code == 200


# ---------------------------------------------------------------- headers: CSP, framing, referrer


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/accounts/login/", "/healthz", "/join/no-such-token/", "/static/circle/circle.css"])
def test_every_response_carries_the_security_headers(client, path):
    response = client.get(path)
    csp = response["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in csp.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["img-src"] == "'self' data:"
    assert directives["connect-src"].split() == ["'self'", "ws://testserver", "wss://testserver"]
    assert directives["frame-ancestors"] == "'none'"
    assert directives["base-uri"] == "'none'"
    assert directives["form-action"] == "'self'"
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    if path != "/static/circle/circle.css":  # WhiteNoise answers static files before the view middleware
        assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_csp_keeps_the_websocket_on_the_same_host(rf):
    request = rf.get("/", HTTP_HOST="localhost:8000")
    assert "connect-src 'self' ws://localhost:8000 wss://localhost:8000" in content_security_policy(request)


TEMPLATE_DIRS = [REPO / "templates", *REPO.glob("*/templates")]


def test_templates_hold_no_inline_script_handler_or_style():
    """The CSP forbids inline code; a template that needs it would silently break (or be an XSS foothold)."""
    offenders = []
    for directory in TEMPLATE_DIRS:
        for path in directory.rglob("*.html"):
            text = path.read_text()
            for pattern in [
                r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")",  # inline script
                r"\son[a-z]+\s*=",  # onclick=, onload=...
                r"javascript:",
                r"<style",
                r"\sstyle\s*=",
            ]:
                offenders += [f"{path.relative_to(REPO)}: {m.group(0)!r}" for m in re.finditer(pattern, text, re.I)]
    assert offenders == []


# ---------------------------------------------------------------- the channel layer: encryption and TLS


def test_rediss_url_and_key_make_an_encrypted_tls_layer():
    url = "rediss://:pw@redis.clinic.example:6380/2?ssl_ca_certs=/etc/ssl/clinic-ca.pem"
    layers = channel_layers_from_url(url, encryption_key="layer-key", prefix="circle")
    config = layers["default"]["CONFIG"]
    assert layers["default"]["BACKEND"] == "rooms.core_layer.BatchedRedisChannelLayer"
    assert config["hosts"][0]["address"] == url
    assert config["symmetric_encryption_keys"] == ["layer-key"]
    from channels_redis.utils import create_pool
    from redis.asyncio.connection import SSLConnection

    pool = create_pool(config["hosts"][0])
    assert pool.connection_class is SSLConnection
    connection = pool.make_connection()
    context = connection.ssl_context
    assert context.cert_reqs == ssl.CERT_REQUIRED and context.check_hostname
    assert context.ca_certs == "/etc/ssl/clinic-ca.pem"
    assert pool.connection_kwargs["host"] == "redis.clinic.example" and pool.connection_kwargs["port"] == 6380


def test_settings_take_the_layer_key_and_rediss_url_from_the_environment():
    code = (
        "import django, json; django.setup(); from django.conf import settings;"
        "print(json.dumps(settings.CHANNEL_LAYERS['default']['CONFIG'], default=str))"
    )
    env = {**PRODUCTION, "REDIS_URL": "rediss://redis.clinic.example:6380/0", "CHANNEL_LAYER_KEY": "k-123"}
    result = run_settings(env, code)
    assert result.returncode == 0, result.stderr
    config = json.loads(result.stdout)
    assert config["hosts"][0]["address"] == "rediss://redis.clinic.example:6380/0"
    assert config["symmetric_encryption_keys"] == ["k-123"]


def test_an_unknown_redis_scheme_is_refused():
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured):
        channel_layers_from_url("http://redis.clinic.example:6379/0")


SECRET_TEXT = "I relapsed on Saturday and nobody knows"


def test_layer_messages_are_encrypted_before_they_leave_the_process():
    from channels_redis.core import RedisChannelLayer

    config = channel_layers_from_url("redis://127.0.0.1:6379/0", encryption_key="layer-key")["default"]["CONFIG"]
    layer = RedisChannelLayer(**config)
    message = {"type": "room.event", "text": json.dumps({"type": "chat.message", "text": SECRET_TEXT})}
    wire = layer.serialize(message)
    assert SECRET_TEXT.encode() not in wire and b"relapsed" not in wire
    assert layer.deserialize(wire) == message
    # Another installation's key cannot read it.
    other = RedisChannelLayer(**{**config, "symmetric_encryption_keys": ["another-key"]})
    with pytest.raises(Exception):  # noqa: B017 - cryptography's InvalidToken
        other.deserialize(wire)


async def raw_redis_values(prefix: str) -> bytes:
    import redis.asyncio as redis

    client = redis.from_url(redis_url())
    try:
        # Replies are bytes (no decode_responses); redis-py types them as bytes or str.
        values: list[bytes] = []
        async for key in client.scan_iter(match=f"{prefix}*"):
            kind = await client.type(key)
            if kind == b"zset":
                values += cast(list[bytes], await client.zrange(key, 0, -1))
            elif kind == b"string":
                values.append(cast(bytes | None, await client.get(key)) or b"")
            elif kind == b"list":
                values += cast(list[bytes], await client.lrange(key, 0, -1))
        return b"".join(values)
    finally:
        await client.aclose()


@pytest.mark.services
@pytest.mark.parametrize("key", ["layer-key", None])
async def test_what_redis_stores_is_not_plaintext(key):
    """With CHANNEL_LAYER_KEY set, Redis holds ciphertext only (without it, the same probe sees the text)."""
    from channels_redis.core import RedisChannelLayer

    prefix = f"circle-sec-{uuid.uuid4().hex[:8]}"
    config = channel_layers_from_url(redis_url(), encryption_key=key or "", prefix=prefix)["default"]["CONFIG"]
    layer = RedisChannelLayer(**config)
    try:
        channel = await layer.new_channel("probe.")
        await layer.send(channel, {"type": "room.event", "text": SECRET_TEXT})
        stored = await raw_redis_values(prefix)
        assert stored, "the probe found nothing stored in Redis"
        if key:
            assert SECRET_TEXT.encode() not in stored and b"relapsed" not in stored
        else:
            assert SECRET_TEXT.encode() in stored
        received = await layer.receive(channel)
        assert received["text"] == SECRET_TEXT
    finally:
        await layer.flush()
        await layer.close_pools()


# ---------------------------------------------------------------- log redaction


@pytest.mark.parametrize(
    ("line", "secret"),
    [
        ("Gone: /join/q8Jx3kVbN0aP-l2tW9zY_rS4uE6iO7pA/", "q8Jx3kVbN0aP-l2tW9zY_rS4uE6iO7pA"),
        ('127.0.0.1:5000 - - [x] "GET /join/q8Jx3kVbN0aP-l2tW9zY/ " 200', "q8Jx3kVbN0aP-l2tW9zY"),
        ("headers: {'cookie': 'sessionid=abcd1234secret; csrftoken=zzzz9999'}", "abcd1234secret"),
        ("Cookie: sessionid=abcd1234secret", "abcd1234secret"),
        ("sessionid=abcd1234secret; Path=/", "abcd1234secret"),
        ("POST data: username=alex&password=hunter2-long&csrfmiddlewaretoken=t0k3n", "hunter2-long"),
        ("POST data: username=alex&password=hunter2-long&csrfmiddlewaretoken=t0k3n", "t0k3n"),
        ("{'password': 'hunter2-long'}", "hunter2-long"),
    ],
)
def test_redaction_removes_credentials(line, secret):
    assert secret not in redact(line)


def test_redaction_leaves_ordinary_lines_alone():
    line = "channel layer receive failed; retrying"
    assert redact(line) == line


# ---------------------------------------------------------------- one channels-redis layer (REDIS_LAYER removed)


@pytest.mark.parametrize("value", ["pubsub", "PubSub", "redis", "x"])
def test_settings_refuse_a_redis_layer_other_than_the_one_circle_has(value):
    code = (
        "import django; django.setup(); from django.conf import settings;"
        "print(settings.CHANNEL_LAYERS['default']['BACKEND'])"
    )
    env = {**PRODUCTION, "REDIS_URL": "redis://127.0.0.1:6379/0"}
    assert run_settings(env, code).stdout.strip() == "rooms.core_layer.BatchedRedisChannelLayer"
    # An environment file that names the one layer left (the old default) keeps working...
    for kept in ("core", "Core", " core "):
        assert run_settings({**env, "REDIS_LAYER": kept}, code).stdout.strip() == (
            "rooms.core_layer.BatchedRedisChannelLayer"
        )
    # ...and one still asking for another layer is told, in one line, that the choice is gone:
    # starting on the core layer while it asked for pub/sub would be a silent change.
    refused = run_settings({**env, "REDIS_LAYER": value}, code)
    assert refused.returncode != 0
    assert f"REDIS_LAYER={value} is no longer offered (Circle has one Redis layer" in refused.stderr
