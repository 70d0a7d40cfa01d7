"""What the load and crash runs share: a private PostgreSQL cluster and gunicorn.

The PostgreSQL cluster lives under ``var/``; the shared server other work depends on is
never touched: this cluster has its own data directory and port, listens on 127.0.0.1
only (no Unix socket), and trusts local connections. ``initdb`` refuses to run as root,
so as root every server command runs as the ``postgres`` operating-system user
(``runuser``), which then owns the data directory.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import IO

import psycopg
import requests

ROOT = Path(__file__).resolve().parents[1]
BIN = ROOT / ".venv" / "bin"
# Beacon runs behind a TLS-terminating proxy in production; requests say so as it would.
PROXY_HEADERS = {"X-Forwarded-Proto": "https"}


def _bindir() -> Path:
    """The folder holding initdb, pg_ctl and pgbench (``BEACON_PG_BINDIR`` overrides)."""
    configured = os.environ.get("BEACON_PG_BINDIR")
    if configured:
        path = Path(configured)
        if not (path / "initdb").exists():
            raise SystemExit(f"BEACON_PG_BINDIR={configured}: no initdb there.")
        return path
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
    )
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise SystemExit(
        "PostgreSQL server binaries (initdb, pg_ctl) were not found; install the "
        "postgresql package or set BEACON_PG_BINDIR."
    )


class Cluster:
    """One private cluster: ``datadir`` on ``port`` of 127.0.0.1."""

    def __init__(self, datadir: Path, port: int, *, max_connections: int = 100) -> None:
        self.datadir = datadir.resolve()
        self.port = port
        self.max_connections = max_connections
        self.bindir = _bindir()
        self.logfile = self.datadir.parent / f"{self.datadir.name}.log"
        self.as_postgres = os.geteuid() == 0

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        command = list(args)
        if self.as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, check=check, capture_output=True, text=True)

    def url(self, database: str) -> str:
        """A ``DATABASE_URL`` for ``database`` on this cluster."""
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def init(self) -> None:
        """Create the cluster unless it already exists."""
        if (self.datadir / "PG_VERSION").exists():
            return
        self.datadir.mkdir(parents=True, exist_ok=True)
        if self.as_postgres:
            shutil.chown(self.datadir, "postgres", "postgres")
            self.logfile.touch()
            shutil.chown(self.logfile, "postgres", "postgres")
        self._run(
            str(self.bindir / "initdb"),
            "-D",
            str(self.datadir),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        )

    def claim_port(self) -> None:
        """Stop this cluster if an earlier run left it up; refuse if another server has
        the port."""
        if not self.running():
            return
        if (self.datadir / "postmaster.pid").exists():
            self.stop("fast")
            if not self.running():
                return
        raise SystemExit(f"Another server listens on 127.0.0.1:{self.port}; pick another port.")

    def running(self) -> bool:
        """Whether the server answers on its port."""
        result = self._run(
            str(self.bindir / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port), check=False
        )
        return result.returncode == 0

    def start(self) -> None:
        """Start the server (durable defaults: fsync and synchronous commit on)."""
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' "
            f"-c max_connections={self.max_connections} -c fsync=on -c synchronous_commit=on"
        )
        result = self._run(
            str(self.bindir / "pg_ctl"),
            "-D",
            str(self.datadir),
            "-l",
            str(self.logfile),
            "-o",
            options,
            "-w",
            "-t",
            "120",
            "start",
            check=False,
        )
        if result.returncode != 0:
            tail = self.logfile.read_text(errors="replace")[-2000:] if self.logfile.exists() else ""
            raise SystemExit(
                f"PostgreSQL on port {self.port} did not start:\n{result.stderr}\n{tail}"
            )

    def stop(self, mode: str = "fast") -> None:
        """Stop the server; ``immediate`` is a crash: no checkpoint, recovery on start."""
        if mode not in ("smart", "fast", "immediate"):
            raise ValueError(f"unknown stop mode {mode!r}")
        self._run(
            str(self.bindir / "pg_ctl"),
            "-D",
            str(self.datadir),
            "-m",
            mode,
            "-w",
            "stop",
            check=False,
        )

    def wait_ready(self, timeout: float = 120) -> None:
        """Wait until the server accepts connections."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.running():
                return
            time.sleep(0.2)
        raise SystemExit(f"PostgreSQL on port {self.port} is not answering.")

    def ensure_database(self, name: str, *, fresh: bool = False) -> None:
        """Create ``name`` (dropping it first when ``fresh``) on this cluster."""
        with psycopg.connect(self.url("postgres"), autocommit=True) as connection:
            exists = connection.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (name,)
            ).fetchone()
            if exists and fresh:
                connection.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
                exists = None
            if not exists:
                connection.execute(f'CREATE DATABASE "{name}"')

    def pgbench(self, *args: str) -> str:
        """Run pgbench against this cluster; returns its report."""
        result = subprocess.run(
            [
                str(self.bindir / "pgbench"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                "postgres",
                *args,
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        return result.stdout + result.stderr


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without any ``BEACON_*`` setting, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BEACON_")}
    env.update(extra)
    return env


def beacon(env: dict[str, str], *args: str) -> str:
    """Run a ``beacon`` management command; stop the run with its output if it fails."""
    result = subprocess.run(
        [str(BIN / "beacon"), *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if result.returncode != 0:
        raise SystemExit(f"beacon {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def get_status(url: str, timeout: float = 10) -> int:
    """HTTP status of a GET as the proxy would send it (0 when nothing answers)."""
    try:
        return requests.get(url, headers=PROXY_HEADERS, timeout=timeout).status_code
    except requests.RequestException:
        return 0


class Gunicorn:
    """gunicorn serving Beacon on 127.0.0.1 with threaded workers."""

    def __init__(
        self, env: dict[str, str], port: int, workers: int, threads: int, log: Path
    ) -> None:
        self.env = env
        self.port = port
        self.workers = workers
        self.threads = threads
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = log
        self.log: IO[str] | None = None
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start the master (which forks the workers)."""
        self.log = self.log_path.open("a")
        self.process = subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "beacon.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(self.workers),
                "--worker-class",
                "gthread",
                "--threads",
                str(self.threads),
                "--timeout",
                "120",
                "--graceful-timeout",
                "10",
                # Clients keep their connections between requests, as a proxy would.
                "--keep-alive",
                "30",
                "--no-control-socket",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self, probe: str, timeout: float = 180) -> None:
        """Wait until ``probe`` (a path) answers 200."""
        deadline = time.monotonic() + timeout
        while get_status(self.url + probe) != 200:
            if self.process is None or self.process.poll() is not None:
                raise SystemExit(f"gunicorn exited; see {self.log_path}")
            if time.monotonic() > deadline:
                raise SystemExit(f"gunicorn did not answer in {timeout:.0f} s; see {self.log_path}")
            time.sleep(0.3)

    def worker_pids(self) -> list[int]:
        """The master's worker processes, read from /proc."""
        if self.process is None:
            return []
        pids = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.process.pid:
                pids.append(int(stat.parent.name))
        return pids

    def kill_workers(self) -> list[int]:
        """``kill -9`` every worker (the master forks new ones); returns their pids."""
        pids = self.worker_pids()
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
        return pids

    def kill_all(self) -> list[int]:
        """``kill -9`` the workers and the master at once; returns their pids."""
        if self.process is None:
            return []
        pids = [*self.worker_pids(), self.process.pid]
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
        self.process.wait()
        # Orphaned workers notice their master is gone, but a SIGKILL is what a crash is.
        deadline = time.monotonic() + 10
        while any(Path(f"/proc/{pid}").exists() for pid in pids[:-1]):
            if time.monotonic() > deadline:
                break
            time.sleep(0.05)
        if self.log is not None:
            self.log.close()
        return pids

    def stop(self) -> None:
        """Stop gunicorn gracefully and wait for it."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.log is not None:
            self.log.close()
