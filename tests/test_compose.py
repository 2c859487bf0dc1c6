"""docker-compose.yml cannot be started here (no Docker engine): check it against the code instead."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict = COMPOSE["services"]
NGINX = (ROOT / "deploy" / "nginx.conf").read_text()
ENV_EXAMPLE = (ROOT / ".env.example").read_text()


def variables_the_code_reads() -> set[str]:
    """Every environment variable read through config.env's helpers."""
    names: set[str] = set()
    for path in (ROOT / "config").glob("*.py"):
        names |= set(re.findall(r"env_(?:str|bool|int|list|origins)\(\s*\"([A-Z0-9_]+)\"", path.read_text()))
    return names


def app_services() -> dict[str, dict]:
    """Services that run Circle's Django code (the static copier only copies files)."""
    return {name: svc for name, svc in SERVICES.items() if re.search(r"manage\.py|daphne", str(svc.get("command")))}


def daphne_workers() -> dict[str, dict]:
    return {name: svc for name, svc in app_services().items() if "daphne" in svc.get("command", [])}


def test_has_the_services_production_needs():
    assert {"postgres", "redis", "nginx", "migrate", "retention"} <= set(SERVICES)
    assert len(daphne_workers()) >= 2


def test_workers_run_the_contract_asgi_application():
    for name, svc in daphne_workers().items():
        command = svc["command"]
        assert command[-1] == "config.asgi:application", name
        assert "--proxy-headers" in command, f"{name}: client addresses come from the proxy"


def test_every_long_running_service_has_a_health_check():
    one_off = {name for name, svc in SERVICES.items() if svc.get("restart") == "no"}
    for name, svc in SERVICES.items():
        if name not in one_off:
            assert "healthcheck" in svc and svc["healthcheck"]["test"], name


def test_worker_health_check_uses_the_contract_healthz():
    for name, svc in daphne_workers().items():
        assert "/healthz" in " ".join(svc["healthcheck"]["test"]), name


def test_app_environment_is_what_the_code_reads():
    read = variables_the_code_reads()
    assert {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "ALLOWED_HOSTS", "HTTPS", "DEBUG", "RETENTION_DAYS"} <= read
    for name, svc in app_services().items():
        env = svc["environment"]
        unknown = set(env) - read - {"ASGI_THREADS"}  # ASGI_THREADS is read by daphne itself
        assert not unknown, f"{name} sets variables nothing reads: {unknown}"
        assert env["DEBUG"] == "0", name
        assert env["DATABASE_URL"].startswith("postgres://") and "@postgres:5432/" in env["DATABASE_URL"]
        assert env["REDIS_URL"].startswith("redis://redis:6379")
        assert env["SECRET_KEY"] == "${SECRET_KEY}", f"{name}: the secret comes from .env"


def test_no_secret_is_written_in_the_compose_file():
    for name, svc in SERVICES.items():
        for key, value in (svc.get("environment") or {}).items():
            if any(word in key for word in ("SECRET", "PASSWORD", "KEY")):
                assert re.fullmatch(r"\$\{[A-Z0-9_]+\}", str(value)), f"{name}.{key} must come from .env"
        if svc.get("env_file"):
            assert svc["env_file"] == ".env"


def test_env_example_names_every_variable_the_compose_file_uses():
    used = set(re.findall(r"\$\{([A-Z0-9_]+)", (ROOT / "docker-compose.yml").read_text()))
    offered = set(re.findall(r"^([A-Z0-9_]+)=", ENV_EXAMPLE, re.MULTILINE))
    assert used <= offered, f"missing from .env.example: {used - offered}"
    assert "change-me" in ENV_EXAMPLE, "the example holds placeholders, not real secrets"


def test_workers_wait_for_healthy_database_redis_and_migrations():
    for name, svc in daphne_workers().items():
        depends = svc["depends_on"]
        assert depends["postgres"]["condition"] == "service_healthy", name
        assert depends["redis"]["condition"] == "service_healthy", name
        assert depends["migrate"]["condition"] == "service_completed_successfully", name


def test_retention_runs_purge_expired_daily():
    command = " ".join(SERVICES["retention"]["command"])
    assert "purge_expired" in command and "86400" in command


def test_third_party_images_are_pinned():
    for name, svc in SERVICES.items():
        image = svc.get("image", "")
        if image and not image.startswith("circle"):
            assert ":" in image and not image.endswith(":latest"), f"{name}: pin {image}"


@pytest.mark.parametrize("worker", sorted(daphne_workers()))
def test_nginx_balances_over_every_worker(worker):
    assert re.search(rf"server\s+{worker}:8000", NGINX)


def test_nginx_forwards_websockets_and_serves_static_files():
    ws_block = NGINX[NGINX.index("location /ws/") :]
    assert "proxy_set_header Upgrade $http_upgrade" in ws_block
    assert "proxy_set_header Connection $connection_upgrade" in ws_block
    assert "proxy_set_header X-Forwarded-Proto" in NGINX, "HTTPS=1 trusts X-Forwarded-Proto from the proxy"
    assert re.search(r"location /static/ \{\s*alias /srv/static/;", NGINX)
    nginx_volumes = " ".join(SERVICES["nginx"]["volumes"])
    assert "static-files:/srv/static" in nginx_volumes


def test_nginx_conf_is_the_one_mounted():
    assert "./deploy/nginx.conf:/etc/nginx/conf.d/default.conf:ro" in SERVICES["nginx"]["volumes"]
