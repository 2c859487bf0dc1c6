"""Settings of the servers and commands that the end-to-end and browser tests start.

Circle's real settings (config.settings: the database pool, DEBUG off, the start-up
checks), with one exception: a cheap password hasher. Every person an end-to-end
test provisions and signs in costs two PBKDF2 runs (about 0.2 s of CPU each, by
design), through daphne's one thread for sync views; on a loaded CI machine four
sign-ins queued behind each other outlasted a 10 s request timeout. What these
tests check is the rest: the pages, the sockets, the workers. (Circle's hasher is
Django's default; the in-process tests use this same cheap one, tests/settings.py.)
"""

import os

from config.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

if os.environ.get("E2E_PUBLISH_FAULT_FILE"):
    # A worker whose publishing a test makes fail or wait (tests/e2e_faults.py).
    INSTALLED_APPS = [*INSTALLED_APPS, "tests.e2e_faults.PublishFaultsConfig"]  # noqa: F405
