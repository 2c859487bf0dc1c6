"""Settings of the reference chat: only what the tutorial room needs.

The tutorial runs on one of three channel layers, chosen by REFERENCE_LAYER
(bench/run.py's targets `reference`, `reference-core`, `reference-pubsub`):

- `circle` (the default): Circle's own `channel_layers_from_url` from the same
  REDIS_URL / CHANNEL_LAYER_PREFIX, so both apps run on an identical layer
  (in-memory capacity 1000; channels-redis capacity 5000, expiry 60);
- `core`: channels-redis's `RedisChannelLayer` as its README configures it, CONFIG
  `hosts` only (issue 25: the reference a user would pick);
- `pubsub`: channels-redis's `RedisPubSubChannelLayer`, likewise `hosts` only.

Without REDIS_URL (the embedded configuration) every one of them is the in-memory layer.
"""

from config.env import channel_layers_from_url, env_list, env_str

STOCK_LAYERS = {
    "core": "channels_redis.core.RedisChannelLayer",
    "pubsub": "channels_redis.pubsub.RedisPubSubChannelLayer",
}

SECRET_KEY = env_str("SECRET_KEY") or "bench-reference-not-secret"
DEBUG = False
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1")
INSTALLED_APPS = ["daphne", "channels"]
MIDDLEWARE: list[str] = []
ROOT_URLCONF = "bench.reference.urls"
ASGI_APPLICATION = "bench.reference.asgi.application"
DATABASES: dict[str, object] = {}
USE_TZ = True
REFERENCE_LAYER = env_str("REFERENCE_LAYER", "circle")
if REFERENCE_LAYER in STOCK_LAYERS and env_str("REDIS_URL"):
    CHANNEL_LAYERS = {
        "default": {"BACKEND": STOCK_LAYERS[REFERENCE_LAYER], "CONFIG": {"hosts": [env_str("REDIS_URL")]}}
    }
elif REFERENCE_LAYER in {"circle", *STOCK_LAYERS}:
    CHANNEL_LAYERS = channel_layers_from_url(
        env_str("REDIS_URL"),
        encryption_key=env_str("CHANNEL_LAYER_KEY"),
        prefix=env_str("CHANNEL_LAYER_PREFIX", "circle"),
    )
else:
    raise ValueError(f"REFERENCE_LAYER is circle, core or pubsub, not {REFERENCE_LAYER!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
