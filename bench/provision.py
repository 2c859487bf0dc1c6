"""Provisioning for the bench, through the contract's own management commands.

Run as a child process with the server's environment (`python -m bench.provision`),
it reads a JSON job on stdin and runs `create_member` and `schedule_session` through
`call_command` with the same command-line arguments a clinic script would pass
(one Django start-up for many commands instead of one per command; the commands'
parsing, validation and actions are exactly the ones `manage.py` runs).

    {"members": [[username, role, display_name, password], ...],
     "sessions": [[title, facilitator, [patient, ...]], ...]}

A session may carry a fourth element, {"allow_guests": true} (the day's sessions admit guests).

It prints one JSON line: {"created": N, "session_ids": [...]}.
"""

from __future__ import annotations

import io
import json
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command

    job = json.load(sys.stdin)
    created = 0
    for username, role, display_name, password in job.get("members", []):
        call_command(
            "create_member",
            username,
            "--role",
            role,
            "--display-name",
            display_name,
            "--password",
            password,
            stdout=io.StringIO(),
        )
        created += 1
    session_ids = []
    for title, facilitator, patients, *options in job.get("sessions", []):
        out = io.StringIO()
        flags = ["--allow-guests"] if options and options[0].get("allow_guests") else []
        call_command(
            "schedule_session",
            "--title",
            title,
            "--facilitator",
            facilitator,
            "--patients",
            ",".join(patients),
            "--duration",
            # Long enough for any bench invocation; the duration never ends a session by itself.
            "1440",
            *flags,
            stdout=out,
        )
        session_ids.append(int(out.getvalue().strip().splitlines()[-1]))
    sys.stdout.write(json.dumps({"created": created, "session_ids": session_ids}) + "\n")


if __name__ == "__main__":
    main()
