"""Circle's settings: everything configurable comes from the environment (config.env)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TypedDict

from django.core.exceptions import ImproperlyConfigured

from config.env import (
    channel_layers_from_url,
    database_from_url,
    email_from_url,
    env_bool,
    env_choice,
    env_int,
    env_list,
    env_map,
    env_origins,
    env_retired,
    env_str,
)

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", False)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        # One clear line, then stop: a production server must never start
        # with a guessable key (it signs session cookies and guest passes).
        sys.stderr.write("Circle: SECRET_KEY must be set when DEBUG is off (set DEBUG=1 for development).\n")
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
    SECRET_KEY = "circle-development-key-not-for-production"  # noqa: S105 - only with DEBUG on

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1")
# The pages allowed to open room WebSockets (rooms.origin); unset: each ALLOWED_HOSTS host on the
# scheme and port that served the handshake. Behind a proxy, list the origin browsers see.
ALLOWED_ORIGINS = env_origins("ALLOWED_ORIGINS")
HTTPS = env_bool("HTTPS", False)
# 0: the text of every ended session goes at the next purge (rooms.actions.retention).
RETENTION_DAYS = env_int("RETENTION_DAYS", 30, minimum=0)
# The clinical record (goals, reviews, notes) is kept this long after the patient's last session (record.retention).
RECORD_RETENTION_DAYS = env_int("RECORD_RETENTION_DAYS", 2190, minimum=1)
# The group's confidentiality agreement every family guest must accept before joining
# (per clinic; a literal "\n" in the variable starts a new paragraph; unset or empty: this default).
DEFAULT_CONFIDENTIALITY_AGREEMENT = (
    "What is said in this group stays in this group. I will not repeat, record, photograph or share "
    "anything another person says here, nor who was here, with anyone, including other family members."
    "\\nI am here to support the person who invited me. I will listen, speak only when the facilitator "
    "gives me the floor, and follow the facilitator's guidance; the facilitator may return me to the "
    "waiting room or end my visit at any time."
    "\\nThis group is not an emergency service. If someone is in danger, I will call local emergency services."
)
CONFIDENTIALITY_AGREEMENT = (env_str("CONFIDENTIALITY_AGREEMENT") or DEFAULT_CONFIDENTIALITY_AGREEMENT).replace(
    "\\n", "\n"
)
# The same agreement for guests who read the join page in Spanish (issue 26): written by the
# clinic, never machine-translated from the English one; the consent records which was accepted.
DEFAULT_CONFIDENTIALITY_AGREEMENT_ES = (
    "Lo que se dice en este grupo se queda en este grupo. No repetiré, grabaré, fotografiaré ni compartiré "
    "nada de lo que otra persona diga aquí, ni quién estuvo presente, con nadie, tampoco con otros familiares."
    "\\nEstoy aquí para apoyar a la persona que me invitó. Escucharé, hablaré solo cuando quien facilita "
    "me dé la palabra y seguiré sus indicaciones; quien facilita puede regresarme a la sala de espera "
    "o terminar mi visita en cualquier momento."
    "\\nEste grupo no es un servicio de emergencias. Si alguien está en peligro, llamaré a los servicios "
    "de emergencia de mi localidad."
)
CONFIDENTIALITY_AGREEMENT_ES = (
    env_str("CONFIDENTIALITY_AGREEMENT_ES") or DEFAULT_CONFIDENTIALITY_AGREEMENT_ES
).replace("\\n", "\n")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "accounts",
    "rooms",
    "facilitator",
    "moderation",
    "program",
    "record",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "config.security.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # After WhiteNoise: static files stay cacheable, everything else is no-store.
    "config.security.NoStoreMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Each person's language (a member's own choice, else the cookie, else Accept-Language).
    "accounts.language.PersonLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "accounts.idle.IdleTimeoutMiddleware",
    "config.security.SecondFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": database_from_url(env_str("DATABASE_URL"), default_sqlite_path=str(BASE_DIR / "db.sqlite3"))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CHANNEL_LAYERS = channel_layers_from_url(
    env_str("REDIS_URL"),
    encryption_key=env_str("CHANNEL_LAYER_KEY"),
    prefix=env_str("CHANNEL_LAYER_PREFIX", "circle"),
)
env_retired(
    "REDIS_LAYER", "Circle has one Redis layer, rooms/core_layer.py; docs/performance-journal.md says why", only="core"
)

AUTH_USER_MODEL = "accounts.Member"
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Every page, email, error message and script string exists in each of these (issue 26);
# tests/test_i18n.py fails on a message without its Spanish translation.
LANGUAGES = [("en", "English"), ("es", "Español")]
LANGUAGE_CODE = env_choice("LANGUAGE_CODE", "en", [code for code, _name in LANGUAGES])
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Daphne serves static files itself through WhiteNoise, also with DEBUG off and
# before collectstatic has run (the contract: migrate alone is enough).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS
SECURE_HSTS_SECONDS = 31536000 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if HTTPS else None
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# ---------------------------------------------------------------- security (issue 9; docs/security.md)
# The CSP is set by config.security.ContentSecurityPolicyMiddleware.
CSRF_COOKIE_HTTPONLY = True  # pages read the token from the form, never from the cookie
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# A sign-in lasts at most a working day, and ends with the browser.
SESSION_COOKIE_AGE = env_int("SESSION_MAX_HOURS", 12, minimum=1) * 3600
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# Automatic logoff: idle this long (no page request, no frame on a room socket) ends the sign-in.
IDLE_TIMEOUT_SECONDS = env_int("IDLE_TIMEOUT_MINUTES", 30, minimum=1) * 60
# How often the last-activity time is written to the session; and how often the safety sweep
# re-reads every open room socket's sign-in and seat (rooms.socket_guard: sign-outs, account
# changes and removals reach the sockets as events, and the idle sign-out runs on each worker's
# clock; the sweep is only for what a lost event could miss).
SESSION_ACTIVITY_WRITE_SECONDS = 60
SOCKET_RECHECK_SECONDS = float(env_int("SOCKET_RECHECK_SECONDS", 300, minimum=1))
# Login throttling: failures within LOGIN_LOCK_MINUTES, per username and per address.
AUTHENTICATION_BACKENDS = ["accounts.backends.ThrottledModelBackend"]
LOGIN_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
LOGIN_ADDRESS_FAILURE_LIMIT = env_int("LOGIN_ADDRESS_FAILURE_LIMIT", 20, minimum=1)
LOGIN_LOCK_MINUTES = env_int("LOGIN_LOCK_MINUTES", 15, minimum=1)
# Second factor: facilitators must pass a TOTP code after the password (enroll: manage.py enroll_totp).
FACILITATOR_2FA = env_bool("FACILITATOR_2FA", False)
OTP_TOTP_ISSUER = env_str("OTP_TOTP_ISSUER", "Circle")

# Attendance against the plan (facilitator.attendance.seat_status): first joined more than
# LATE_MINUTES after the actual start is late; attended less than PRESENT_PERCENT of the
# session's actual length is left_early.
LATE_MINUTES = env_int("LATE_MINUTES", 10, minimum=0)
PRESENT_PERCENT = env_int("PRESENT_PERCENT", 75, minimum=1, maximum=100)

# Mail (reminders, notices, family invitations): EMAIL_URL picks Django's backend (config.env).
MAIL = email_from_url(env_str("EMAIL_URL"), debug=DEBUG)
EMAIL_BACKEND = MAIL.backend
EMAIL_HOST = MAIL.host
EMAIL_PORT = MAIL.port
EMAIL_HOST_USER = MAIL.user
EMAIL_HOST_PASSWORD = MAIL.password
EMAIL_USE_TLS = MAIL.use_tls
EMAIL_FILE_PATH = MAIL.file_path
EMAIL_TIMEOUT = 20
DEFAULT_FROM_EMAIL = env_str("EMAIL_FROM", "Circle <circle@localhost>")
# The address people reach the site at, for the links in mail and in the calendar feed.
SITE_URL = env_str("SITE_URL", "http://localhost:8000").rstrip("/")
# The service code of each kind of session in the attendance export (/attendance/): CPT codes by
# default (group psychotherapy, 45-minute individual psychotherapy, family psychotherapy with the patient).
SERVICE_CODES = env_map("SERVICE_CODES", "group=90853,individual=90834,family=90847")


# Circle's own rules (the contract's limits; tunable only where a clinic may need it).
class CircleSettings(TypedDict):
    """CIRCLE's keys and their types, so that every `settings.CIRCLE[...]` is type-checked (mypy)."""

    MAX_FRAME_BYTES: int
    MAX_MESSAGE_CHARS: int
    RATE_LIMIT_COUNT: int
    RATE_LIMIT_SECONDS: int
    STATE_MESSAGE_LIMIT: int
    SINCE_MESSAGE_LIMIT: int
    FLOOR_DEFAULT_SECONDS: int
    FLOOR_MAX_SECONDS: int
    ROUND_DEFAULT_SECONDS: int
    HEARTBEAT_SECONDS: int
    STALE_SECONDS: int
    ABSENCE_GRACE_SECONDS: int
    TIMER_TICK_SECONDS: float
    OUTBOUND_BUFFER_KIB: int
    CRISIS_RESOURCES: str
    CRISIS_RESOURCES_ES: str


CIRCLE: CircleSettings = {
    "MAX_FRAME_BYTES": 16 * 1024,
    "MAX_MESSAGE_CHARS": 2000,
    # chat.send allowed per participant per window; the bench raises it for its runs.
    "RATE_LIMIT_COUNT": env_int("CHAT_RATE_LIMIT", 5, minimum=1),
    "RATE_LIMIT_SECONDS": 10,
    "STATE_MESSAGE_LIMIT": 100,
    "SINCE_MESSAGE_LIMIT": 1000,
    "FLOOR_DEFAULT_SECONDS": 180,
    "FLOOR_MAX_SECONDS": 900,
    "ROUND_DEFAULT_SECONDS": 120,
    # Presence: each worker refreshes its connections every HEARTBEAT seconds;
    # a connection not refreshed for STALE seconds belongs to a dead worker.
    "HEARTBEAT_SECONDS": env_int("PRESENCE_HEARTBEAT_SECONDS", 10, minimum=1),
    "STALE_SECONDS": env_int("PRESENCE_STALE_SECONDS", 30, minimum=2),
    # Someone offline this long leaves the queue and loses the floor; a phone
    # that drops off a cell tower for a moment keeps its place.
    "ABSENCE_GRACE_SECONDS": env_int("ABSENCE_GRACE_SECONDS", 15, minimum=0),
    "TIMER_TICK_SECONDS": 0.25,
    # A WebSocket whose unread frames exceed this (plus its largest frame) is dropped (rooms.outbound).
    "OUTBOUND_BUFFER_KIB": env_int("OUTBOUND_BUFFER_KIB", 1024, minimum=16),
    "CRISIS_RESOURCES": env_str(
        "CRISIS_RESOURCES", "988 Suicide & Crisis Lifeline (US): call or text 988, or chat at 988lifeline.org"
    ),
    # Shown to a facilitator who reads Circle in Spanish (issue 26): the 988 line's Spanish option.
    "CRISIS_RESOURCES_ES": env_str(
        "CRISIS_RESOURCES_ES",
        "988 Lifeline (EE. UU.), en español: llame al 988 y marque 2, envíe el texto AYUDA al 988, "
        "o chatee en 988lineadevida.org",
    ),
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {
            # Redacts cookies, join tokens and passwords from every line (config.security).
            "()": "config.security.RedactingFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
        }
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        # Request lines carry join tokens in their paths; keep them out of logs.
        "django.channels.server": {"level": "WARNING"},
        "daphne": {"level": "WARNING"},
        # With DEBUG on, SQL is logged with its parameters: message text and session keys.
        "django.db.backends": {"level": "INFO"},
        # Drop Django's default handlers (an unredacted console with DEBUG on, mail to
        # ADMINS with request details): everything goes through the redacting handler.
        "django": {"handlers": [], "propagate": True},
        "django.server": {"handlers": [], "propagate": True},
    },
}
