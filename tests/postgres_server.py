"""A throw-away PostgreSQL server on loopback, for the tests and the benchmarks.

``initdb`` and ``pg_ctl`` (PostgreSQL's own binaries, from the machine's packages) put a
cluster into a temporary folder and start it on a free port of 127.0.0.1, its socket in
that folder too; run as root, they run as the ``postgres`` user (PostgreSQL refuses root).
``shared_server()`` starts one per process, the first time it is asked, and stops it when
the process ends; ``binaries()`` is ``None`` where PostgreSQL is not installed, and
``MISSING`` says so, for the tests that skip then.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import psycopg

MISSING = (
    "PostgreSQL is not installed (no initdb/pg_ctl under /usr/lib/postgresql/*/bin nor on"
    " PATH): apt-get install postgresql to run the PostgreSQL store's tests"
)
USER = "subbill"  # the cluster's superuser (trust authentication, loopback only)

# Fast and throw-away for the tests: no fsync (a crashed machine loses the test database,
# never a test's result: a killed *client* is what the tests kill).
TEST_SETTINGS = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "60",
    "shared_buffers": "64MB",
}
# What an installation keeps by default: every commit reaches the disk (the benchmarks).
DURABLE_SETTINGS = {"max_connections": "20", "shared_buffers": "128MB"}


def binaries() -> Path | None:
    """The folder of ``initdb`` and ``pg_ctl``, the newest installed, or ``None``."""
    versions = [Path(p).parent.parent for p in glob.glob("/usr/lib/postgresql/*/bin/initdb")]
    found = sorted((int(v.name), str(v / "bin" / "initdb")) for v in versions if v.name.isdigit())
    if found:
        return Path(found[-1][1]).parent
    on_path = shutil.which("initdb")
    return Path(on_path).resolve().parent if on_path else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class PostgresServer:
    """A cluster in a temporary folder, started on a free loopback port."""

    def __init__(self, *, settings: dict[str, str] | None = None) -> None:
        folder = binaries()
        if folder is None:
            raise RuntimeError(MISSING)
        self.bin = folder
        self.settings = dict(TEST_SETTINGS if settings is None else settings)
        self.folder = Path(tempfile.mkdtemp(prefix="subbill-pg-"))
        self.data = self.folder / "data"
        self.port = _free_port()
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:  # PostgreSQL never runs as root
            entry = pwd.getpwnam("postgres")
            os.chown(self.folder, entry.pw_uid, entry.pw_gid)
        self._databases = 0
        self.started = False

    def _run(self, *command: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if self._as_postgres else []
        done = subprocess.run(
            [*prefix, *command], capture_output=True, text=True, check=False, timeout=120
        )
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")

    def start(self) -> PostgresServer:
        """Create the cluster and start the server; return it."""
        self._run(
            str(self.bin / "initdb"),
            "-D",
            str(self.data),
            "-U",
            USER,
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
        )
        options = [
            f"-p {self.port}",
            "-c listen_addresses=127.0.0.1",
            f"-c unix_socket_directories={self.folder}",
        ]
        options += [f"-c {name}={value}" for name, value in self.settings.items()]
        self._run(
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.folder / "server.log"),
            "-o",
            " ".join(options),
            "-w",
            "-t",
            "60",
            "start",
        )
        self.started = True
        return self

    def url(self, dbname: str = "postgres") -> str:
        """The URL of database ``dbname`` on this server."""
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{dbname}"

    def new_database(self, prefix: str = "t") -> str:
        """Create an empty database; return its URL."""
        self._databases += 1
        name = f"{prefix}{os.getpid()}_{self._databases}"
        with psycopg.connect(self.url(), autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def pids(self) -> list[int]:
        """The process ids of the server (the postmaster and every backend)."""
        postmaster = int((self.data / "postmaster.pid").read_text().split()[0])
        children = Path(f"/proc/{postmaster}/task/{postmaster}/children")
        found = [postmaster]
        with contextlib.suppress(OSError):
            found += [int(pid) for pid in children.read_text().split()]
        return found

    def stop(self) -> None:
        """Stop the server at once and remove its folder."""
        if self.started:
            with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
                self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")
            self.started = False
        shutil.rmtree(self.folder, ignore_errors=True)


_SHARED: dict[str, PostgresServer | None] = {}


def shared_server() -> PostgresServer | None:
    """This process's server, started on first use; ``None`` where PostgreSQL is missing."""
    if "server" not in _SHARED:
        _SHARED["server"] = None if binaries() is None else PostgresServer().start()
        if _SHARED["server"] is not None:
            atexit.register(_SHARED["server"].stop)
    return _SHARED["server"]


def stop_shared_server() -> None:
    """Stop this process's server, if one was started."""
    server = _SHARED.pop("server", None)
    if server is not None:
        server.stop()


def emptied(url: str) -> str:
    """Empty every table of the subbill database ``url`` (as new, schema kept); return it."""
    from subbill.storage.postgres import TABLES  # noqa: PLC0415  (only where it is used)

    with psycopg.connect(url, autocommit=True) as connection, connection.transaction():
        connection.execute(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY")
        connection.execute("INSERT INTO invoice_sequence (id) VALUES (1)")
    return url
