"""Server processes under test: daphne or uvicorn, pinned to their core, measured from /proc."""

from __future__ import annotations

import contextlib
import http.client
import os
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

APPS = {
    "circle": "config.asgi:application",
    "reference": "bench.reference.asgi:application",
    # The same tutorial on channels-redis's own layers (bench/reference/settings.py, REFERENCE_LAYER).
    "reference-core": "bench.reference.asgi:application",
    "reference-pubsub": "bench.reference.asgi:application",
}
CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def parse_cpus(spec: str | None) -> set[int] | None:
    """ "1" or "0-1" or "2,3" -> a set of CPU numbers; None or "" -> not pinned."""
    if not spec:
        return None
    cpus: set[int] = set()
    for part in spec.split(","):
        if "-" in part:
            low, high = part.split("-")
            cpus.update(range(int(low), int(high) + 1))
        else:
            cpus.add(int(part))
    return cpus


def pin_self(cpus: set[int] | None) -> bool:
    """Pin this process (the load generator) as `taskset -c` would; False when not possible."""
    if not cpus or not hasattr(os, "sched_setaffinity"):
        return False
    available = os.sched_getaffinity(0)
    if not cpus <= available:
        return False
    os.sched_setaffinity(0, cpus)
    return True


def raise_fd_limit(wanted: int = 65536) -> int:
    """Raise RLIMIT_NOFILE's soft limit towards `wanted` (at most the hard limit); returns the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = min(wanted, hard) if hard != resource.RLIM_INFINITY else wanted
    if target > soft:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def command(server: str, app: str, port: int) -> list[str]:
    target = APPS[app]
    if server == "daphne":
        # The contract's command line.
        return [str(BIN / "daphne"), "-b", "127.0.0.1", "-p", str(port), target]
    if server == "uvicorn":
        # Plain asyncio, h11 and the sans-I/O websockets protocol: the same pure-Python
        # stack as daphne's, no uvloop/httptools (see docs/performance.md).
        return [
            str(BIN / "uvicorn"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--loop",
            "asyncio",
            "--http",
            "h11",
            "--ws",
            "websockets-sansio",
            "--lifespan",
            "off",
            "--no-access-log",
            "--log-level",
            "warning",
            target,
        ]
    raise ValueError(f"unknown server {server!r}")


def read_proc(pid: int) -> tuple[float, int, int]:
    """(cpu seconds user+system, VmRSS KiB, VmHWM KiB) of a live process."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime (fields 14, 15)
    rss = hwm = 0
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
            elif line.startswith("VmHWM:"):
                hwm = int(line.split()[1])
    return cpu, rss, hwm


@dataclass
class ServerProcess:
    app: str  # circle | reference
    server: str  # daphne | uvicorn
    env: Mapping[str, str]
    cpus: set[int] | None = None
    name: str = ""
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None
    fd_limit: int = 65536

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self, timeout: float = 60) -> ServerProcess:
        fd, path = tempfile.mkstemp(prefix=f"circle-bench-{self.name or self.app}-", suffix=".log")
        os.close(fd)
        self.log_path = Path(path)
        cpus, fd_limit = self.cpus, self.fd_limit

        def prepare() -> None:  # in the child, before exec: taskset -c CPUS, ulimit -n
            if cpus and hasattr(os, "sched_setaffinity"):
                os.sched_setaffinity(0, cpus)
            soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
            target = min(fd_limit, hard) if hard != resource.RLIM_INFINITY else fd_limit
            if target > soft:
                resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))

        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                command(self.server, self.app, self.port),
                cwd=REPO,
                env=dict(self.env),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=prepare,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            if self.healthz() == 200:
                return self
            time.sleep(0.1)
        log_text = self.log_text()
        self.kill()
        raise RuntimeError(f"{self.app} on {self.server} did not answer /healthz on {self.base_url}\n{log_text}")

    def healthz(self) -> int:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        try:
            conn.request("GET", "/healthz")
            return conn.getresponse().status
        except OSError:
            return 0
        finally:
            conn.close()

    def sample(self) -> tuple[float, int, int]:
        return read_proc(self.pid)

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout: float = 15) -> None:
        if self.running():
            assert self.process is not None
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()

    def kill(self) -> None:
        if self.running():
            assert self.process is not None
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def log_text(self) -> str:
        if self.log_path is None:
            return ""
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def problems(self) -> list[str]:
        """Tracebacks and ERROR lines in the server's log (a bench run with these did not work).

        Except the traceback channels-redis's pub/sub layer logs when a closing socket's receive
        is cancelled while it unsubscribes (the stock layer's reference, at the end of every run,
        the messages long delivered): noise of the layer, not a failure of the run.
        """
        lines = self.log_text().splitlines()
        return [
            line
            for index, line in enumerate(lines)
            if ("Traceback (most recent call last)" in line and not _pubsub_cleanup(lines, index))
            or " ERROR " in line
            or " CRITICAL " in line
        ]


PUBSUB_CLEANUP = "Unexpected exception while cleaning-up channel:"  # channels_redis.pubsub's logger.exception


def _pubsub_cleanup(lines: Sequence[str], index: int) -> bool:
    """Whether the traceback starting at lines[index] is the pub/sub layer's clean-up of a closing socket's channel
    (its own message on the line before; or the chained traceback after that one's CancelledError)."""
    before = lines[index - 1] if index else ""
    if before == PUBSUB_CLEANUP:
        return True
    if before == "" and index >= 2 and "During handling of the above exception" in lines[index - 2]:
        start = next((i for i in range(index - 1, -1, -1) if "Traceback (most recent call last)" in lines[i]), None)
        return start is not None and _pubsub_cleanup(lines, start)
    return False


class ServerGroup:
    """One or more worker processes of one app, started together and measured together."""

    def __init__(
        self,
        app: str,
        server: str,
        env: Mapping[str, str],
        *,
        workers: int = 1,
        cpus: set[int] | None = None,
    ) -> None:
        self.app = app
        self.server = server
        self.processes = [
            ServerProcess(app, server, env, cpus=cpus, name=f"{app}-{server}-{index + 1}") for index in range(workers)
        ]
        self._cpu_mark: list[float] = []

    def __enter__(self) -> ServerGroup:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> ServerGroup:
        try:
            for process in self.processes:
                process.start()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        for process in self.processes:
            process.stop()

    @property
    def base_urls(self) -> list[str]:
        return [process.base_url for process in self.processes]

    def cpu_seconds(self) -> float:
        return sum(process.sample()[0] for process in self.processes if process.running())

    def runqueue_wait_seconds(self) -> float:
        """How long the servers' threads were ready to run but waited for a CPU, so far (/proc/PID/task/*/schedstat).

        On a machine shared with other work this is the server's own measure of how busy it was:
        a server that waited for its core is slowed by its neighbours, not by its own code.
        """
        waited = 0
        for process in self.processes:
            if not process.running():
                continue
            for task in Path(f"/proc/{process.pid}/task").glob("*/schedstat"):
                with contextlib.suppress(OSError, ValueError, IndexError):
                    waited += int(task.read_text().split()[1])
        return waited / 1e9

    def rss_kib(self) -> list[int]:
        return [process.sample()[1] for process in self.processes if process.running()]

    def peak_rss_kib(self) -> list[int]:
        return [process.sample()[2] for process in self.processes if process.running()]

    def pids(self) -> list[int]:
        return [process.pid for process in self.processes]

    def problems(self) -> list[str]:
        return [f"{process.name}: {line}" for process in self.processes for line in process.problems()]

    def logs(self) -> dict[str, str]:
        return {process.name: str(process.log_path) for process in self.processes}

    def remove_logs(self) -> None:
        for process in self.processes:
            if process.log_path is not None:
                process.log_path.unlink(missing_ok=True)


def run_checked(args: Sequence[str], env: Mapping[str, str], *, stdin: str | None = None, timeout: float = 900) -> str:
    """Run a command in the repository with `env`; raise with its output when it fails; return stdout."""
    result = subprocess.run(
        list(args), cwd=REPO, env=dict(env), input=stdin, capture_output=True, text=True, timeout=timeout, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"{' '.join(args[:4])} ... exited {result.returncode}\n"
            f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
        )
    return result.stdout
