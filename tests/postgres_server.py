"""A throwaway PostgreSQL server for tests: its own cluster in a temp dir, on 127.0.0.1 at a free port.

    with PostgresServer() as pg:          # initdb + start; stop and delete the dir at the end, even on failure
        pg.builder_url                    # superuser `builder` (password auth over TCP), owns database `warehouse`
        pg.reader_url                     # LOGIN role `dashboard_reader`: USAGE + SELECT only, after grant_reader()
        pg.grant_reader()                 # what an admin runs once (see README, "PostgreSQL")
        pg.stop(); pg.start()             # an outage: the same cluster back on the same port

TCP connections need a password (scram-sha-256), so tests of password masking mean something.
As root the server runs as the `postgres` OS user (`runuser -u postgres --`); otherwise as the
current user. `unavailable()` says why no server can be started (no `initdb` on this machine).
"""
from __future__ import annotations

import glob
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

from throwaway import ThrowawayServer

DATABASE = "warehouse"
BUILDER = "builder"
READER = "dashboard_reader"
SCHEMAS = ("silver", "gold", "fast")


def bin_dir() -> Path | None:
    """The directory holding initdb/pg_ctl (newest Debian cluster version first, then $PATH)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]), reverse=True)
    found += [p for p in [shutil.which("initdb")] if p]
    for path in found:
        directory = Path(path).resolve().parent
        if (directory / "pg_ctl").exists():
            return directory
    return None


def unavailable() -> str | None:
    """Why no throwaway server can be started here (None when one can)."""
    if bin_dir() is None:
        return "PostgreSQL is not installed (no initdb/pg_ctl; apt-get install postgresql, as .ci/run does)"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "running as root without runuser: cannot start PostgreSQL as the postgres user"
    return None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def url(user: str, password: str | None, port: int, database: str = DATABASE) -> str:
    return sa.URL.create("postgresql+psycopg", username=user, password=password, host="127.0.0.1",
                         port=port, database=database).render_as_string(hide_password=False)


class PostgresServer(ThrowawayServer):
    """One cluster in a temp dir. `start()` initialises it on first use; `close()` removes it."""

    def __init__(self, port: int | None = None):
        reason = unavailable()
        if reason:
            raise RuntimeError(reason)
        self.bin = bin_dir()
        self.root = Path(tempfile.mkdtemp(prefix="pgtest-"))
        os.chmod(self.root, 0o755)  # the postgres OS user must reach data/ and run/
        self.data, self.run = self.root / "data", self.root / "run"
        self.port = port or free_port()
        self.passwords = {user: secrets.token_hex(12) for user in ("postgres", BUILDER, READER)}
        self.running = False
        self._initialised = False

    # -- URLs ----------------------------------------------------------------------------------
    @property
    def admin_url(self) -> str:
        return url("postgres", self.passwords["postgres"], self.port, "postgres")

    @property
    def builder_url(self) -> str:
        return url(BUILDER, self.passwords[BUILDER], self.port)

    @property
    def reader_url(self) -> str:
        return url(READER, self.passwords[READER], self.port)

    def urls(self, database: str) -> tuple[str, str]:
        """(builder URL, reader URL) of another database of this cluster."""
        return url(BUILDER, self.passwords[BUILDER], self.port, database), url(READER, self.passwords[READER], self.port, database)

    # -- life cycle ------------------------------------------------------------------------------
    def _as_postgres(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        command = [str(a) for a in args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
        if result.returncode != 0:
            log = self.run / "pg.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"{' '.join(command[-6:])} failed ({result.returncode}):\n"
                               f"{result.stdout}{result.stderr}{tail}")
        return result

    def _own(self, path: Path, mode: int) -> None:
        path.mkdir(mode=mode, exist_ok=True)
        os.chmod(path, mode)
        if os.geteuid() == 0:
            shutil.chown(path, "postgres", "postgres")

    def _initdb(self) -> None:
        self._own(self.data, 0o700)
        self._own(self.run, 0o755)  # log and socket: postgres-owned
        pwfile = self.run / "pw"
        pwfile.write_text(self.passwords["postgres"] + "\n")
        if os.geteuid() == 0:
            shutil.chown(pwfile, "postgres", "postgres")
        os.chmod(pwfile, 0o600)
        try:
            self._as_postgres(self.bin / "initdb", "-D", self.data, "-U", "postgres", "-E", "UTF8",
                              "--locale=C.UTF-8", "--auth-local=peer", "--auth-host=scram-sha-256",
                              f"--pwfile={pwfile}", "--no-sync")
        finally:
            pwfile.unlink(missing_ok=True)
        with open(self.data / "postgresql.conf", "a") as conf:  # a test server: speed over durability
            conf.write("\nfsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
                       "shared_buffers = 64MB\nmax_connections = 50\n")
        self._initialised = True

    def start(self) -> "PostgresServer":
        """Start the cluster (initialised and provisioned on the first call) on `self.port`."""
        if self.running:
            return self
        first = not self._initialised
        if first:
            self._initdb()
        self._as_postgres(self.bin / "pg_ctl", "-D", self.data, "-l", self.run / "pg.log", "-w", "-t", "30",
                          "-o", f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.run}", "start")
        self.running = True
        if first:
            self._provision()
        return self

    def stop(self) -> None:
        """Stop the cluster (fast shutdown: open sessions are cut, as in an outage); `start()` brings it back."""
        if self.running:
            self._as_postgres(self.bin / "pg_ctl", "-D", self.data, "-m", "fast", "-w", "-t", "30", "stop")
            self.running = False

    def close(self) -> None:
        """Stop the server and delete its directory (safe to call twice, and after a failed start)."""
        try:
            if self.running or (self.data / "postmaster.pid").exists():
                self.running = True
                self.stop()
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    # -- SQL as an administrator ------------------------------------------------------------------
    def execute(self, *statements: str, as_url: str | None = None) -> None:
        """Run SQL statements (our own, identifiers only), each committed, as the superuser or `as_url`."""
        engine = sa.create_engine(as_url or self.admin_url, isolation_level="AUTOCOMMIT")
        try:
            with engine.begin() as conn:
                for statement in statements:
                    conn.exec_driver_sql(statement)
        finally:
            engine.dispose()

    def _provision(self) -> None:
        """Roles and the database. Passwords travel as bound parameters, quoted by the server's format(%L)."""
        engine = sa.create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                for role, attributes in ((BUILDER, "LOGIN SUPERUSER"), (READER, "LOGIN")):
                    statement = conn.execute(sa.text(f"SELECT format('CREATE ROLE %I {attributes} PASSWORD %L', "
                                                     "CAST(:role AS text), CAST(:password AS text))"),
                                             {"role": role, "password": self.passwords[role]}).scalar_one()
                    conn.exec_driver_sql(statement)
        finally:
            engine.dispose()
        self.create_database(DATABASE)

    def create_database(self, name: str) -> tuple[str, str]:
        """A new database owned by `builder` that `dashboard_reader` may connect to; its (builder, reader) URLs."""
        self.execute(f"CREATE DATABASE {name} OWNER {BUILDER}", f"REVOKE ALL ON DATABASE {name} FROM PUBLIC",
                     f"GRANT CONNECT ON DATABASE {name} TO {READER}")
        return self.urls(name)

    def grant_reader(self, schemas: tuple[str, ...] = SCHEMAS, database: str = DATABASE) -> None:
        """The README's grants ("PostgreSQL"), run once after the first build as the build role:
        read-only access for `dashboard_reader`, kept across rebuilds by `builder`'s default privileges."""
        listed = ", ".join(schemas)
        self.execute(f"GRANT USAGE ON SCHEMA {listed} TO {READER}",
                     f"GRANT SELECT ON ALL TABLES IN SCHEMA {listed} TO {READER}",
                     f"ALTER DEFAULT PRIVILEGES FOR ROLE {BUILDER} IN SCHEMA {listed} GRANT SELECT ON TABLES TO {READER}",
                     as_url=self.urls(database)[0])


def wait_until_accepting(url_: str, timeout: float = 30) -> None:
    """Block until a connection to `url_` succeeds (after a restart)."""
    engine = sa.create_engine(url_)
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                with engine.connect():
                    return
            except sa.exc.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
    finally:
        engine.dispose()
