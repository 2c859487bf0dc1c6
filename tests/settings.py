"""Settings for the test run: production settings with a throwaway key.

DEBUG stays off, as in production; only the key (which a real deployment must
set) gets a test value.
"""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production")
# Tests flush the channel layer, which deletes every Redis key with the layer's
# prefix: keep it unique to this test process so no real installation (prefix
# "circle") or parallel test run sharing the Redis is touched.
os.environ["CHANNEL_LAYER_PREFIX"] = f"test-{os.getpid()}"

from config.settings import *  # noqa: F403

# Hashing a password costs ~0.3 s by design; tests create many members.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# In-process tests reach the database from the event loop's helper threads
# (async ORM calls, sync_to_async in fixtures), which Django never hands back to
# a pool, so a pool would run dry after a few tests. Plain connections are
# opened and closed per thread instead. The e2e tests run real daphne processes
# with the production pool settings.
DATABASES["default"]["OPTIONS"].pop("pool", None)  # noqa: F405
