"""Settings of the reference chat: only what the tutorial room needs.

The channel layer is built by Circle's own `channel_layers_from_url` from the
same REDIS_URL / CHANNEL_LAYER_PREFIX, so both apps run on an identical layer
(in-memory capacity 1000; channels-redis capacity 5000, expiry 60).
"""

from config.env import channel_layers_from_url, env_list, env_str

SECRET_KEY = env_str("SECRET_KEY") or "bench-reference-not-secret"
DEBUG = False
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1")
INSTALLED_APPS = ["daphne", "channels"]
MIDDLEWARE: list[str] = []
ROOT_URLCONF = "bench.reference.urls"
ASGI_APPLICATION = "bench.reference.asgi.application"
DATABASES: dict[str, object] = {}
USE_TZ = True
CHANNEL_LAYERS = channel_layers_from_url(
    env_str("REDIS_URL"),
    encryption_key=env_str("CHANNEL_LAYER_KEY"),
    prefix=env_str("CHANNEL_LAYER_PREFIX", "circle"),
)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
