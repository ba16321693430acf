"""A throwaway PostgreSQL server for the race tests.

``provide_postgres()`` returns connection parameters for a server the tests may freely create
tables in, or raises ``PgUnavailable`` with a reason that the caller turns into a skip (or a
failure under ``GOC_REQUIRE_PG=1``). In order of preference:

1. ``GOC_PG_EXTERNAL=1``: use the server described by the ``GOC_PG_*`` variables, nothing else.
2. Any ``GOC_PG_*`` variable set and that server answers: use it.
3. ``initdb`` a cluster in a temporary directory, listening on 127.0.0.1 on a free port. As root
   the server binaries run as the ``postgres`` user (PostgreSQL refuses to run as root).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

# Same defaults as tests/fixtures/project/goc_project/settings.py.
DEFAULTS = {
    "GOC_PG_NAME": "goc",
    "GOC_PG_USER": "goc",
    "GOC_PG_PASSWORD": "goc",
    "GOC_PG_HOST": "127.0.0.1",
    "GOC_PG_PORT": "5432",
}
# nulls_distinct=False needs PostgreSQL 15 (Django only emits it there).
MIN_SERVER_VERSION = 150000
START_TIMEOUT = 30


class PgUnavailable(Exception):
    """No usable PostgreSQL server; the message says why."""


@dataclass
class PgServer:
    name: str
    user: str
    password: str
    host: str
    port: int
    origin: str
    # Cleanup callbacks, run last-in first-out by stop().
    _stop: list[Callable[[], None]] = field(default_factory=list, repr=False)

    @property
    def env(self) -> dict[str, str]:
        return {
            "GOC_PG_NAME": self.name,
            "GOC_PG_USER": self.user,
            "GOC_PG_PASSWORD": self.password,
            "GOC_PG_HOST": self.host,
            "GOC_PG_PORT": str(self.port),
        }

    def stop(self) -> None:
        while self._stop:
            self._stop.pop()()


def provide_postgres() -> PgServer:
    """Return a usable server (started if needed) or raise ``PgUnavailable``."""
    if os.environ.get("GOC_PG_EXTERNAL") == "1":
        server = _from_env("external server (GOC_PG_EXTERNAL=1)")
        _check_server(server)
        return server
    if any(name in os.environ for name in DEFAULTS):
        server = _from_env("server from GOC_PG_* variables")
        with contextlib.suppress(PgUnavailable):
            _check_server(server)
            return server
    return _start_temporary_cluster()


def _from_env(origin: str) -> PgServer:
    values = {name: os.environ.get(name, default) for name, default in DEFAULTS.items()}
    return PgServer(
        name=values["GOC_PG_NAME"],
        user=values["GOC_PG_USER"],
        password=values["GOC_PG_PASSWORD"],
        host=values["GOC_PG_HOST"],
        port=int(values["GOC_PG_PORT"]),
        origin=origin,
    )


def _check_server(server: PgServer) -> None:
    try:
        import psycopg
    except ImportError as exc:  # pragma: no cover - psycopg is a test dependency
        raise PgUnavailable(f"psycopg is not installed: {exc}") from exc
    try:
        with psycopg.connect(
            dbname=server.name,
            user=server.user,
            password=server.password,
            host=server.host,
            port=server.port,
            connect_timeout=5,
        ) as conn:
            version = conn.info.server_version
    except psycopg.Error as exc:
        raise PgUnavailable(
            f"cannot connect to {server.origin} at {server.host}:{server.port} "
            f"as {server.user!r} to database {server.name!r}: {exc}".strip()
        ) from exc
    if version < MIN_SERVER_VERSION:
        raise PgUnavailable(f"{server.origin} runs PostgreSQL {version}; 15 or newer is needed")


def find_bindir() -> Path:
    """The newest PostgreSQL server ``bin`` directory: ``GOC_PG_BINDIR``, ``pg_config``, Debian."""
    candidates: list[Path] = []
    if explicit := os.environ.get("GOC_PG_BINDIR"):
        candidates.append(Path(explicit))
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, check=True, timeout=10
            )
            candidates.append(Path(out.stdout.strip()))
    debian = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
        reverse=True,
    )
    candidates.extend(debian)
    for bindir in candidates:
        if (bindir / "initdb").is_file() and (bindir / "pg_ctl").is_file():
            return bindir
    raise PgUnavailable(
        "no PostgreSQL server binaries found (set GOC_PG_BINDIR, put pg_config on PATH, or "
        "install postgresql-15); or point GOC_PG_* at a running server with GOC_PG_EXTERNAL=1"
    )


def _runner() -> tuple[Sequence[str], int | None, int | None]:
    """Command prefix that runs server binaries as a non-root user, plus that user's ids."""
    if os.geteuid() != 0:
        return (), None, None
    import pwd

    try:
        entry = pwd.getpwnam("postgres")
    except KeyError as exc:
        raise PgUnavailable(
            "running as root and there is no 'postgres' user to run the server as"
        ) from exc
    if runuser := shutil.which("runuser"):
        return (runuser, "-u", "postgres", "--"), entry.pw_uid, entry.pw_gid
    # `su -c` takes one shell string; the caller quotes arguments for it.
    return ("su", "postgres", "-s", "/bin/sh", "-c"), entry.pw_uid, entry.pw_gid


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_temporary_cluster() -> PgServer:
    bindir = find_bindir()
    prefix, uid, gid = _runner()

    def run(*args: str, timeout: float = START_TIMEOUT) -> subprocess.CompletedProcess[str]:
        cmd: list[str] = list(prefix)
        if prefix and prefix[0] == "su":
            import shlex

            cmd.append(shlex.join(args))
        else:
            cmd.extend(args)
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)

    tmp = Path(tempfile.mkdtemp(prefix="goc-pg-"))
    data = tmp / "data"
    log = tmp / "server.log"
    if uid is not None and gid is not None:
        os.chown(tmp, uid, gid)

    def cleanup() -> None:
        shutil.rmtree(tmp, ignore_errors=True)

    server = PgServer(
        name=DEFAULTS["GOC_PG_NAME"],
        user=DEFAULTS["GOC_PG_USER"],
        password=DEFAULTS["GOC_PG_PASSWORD"],
        host="127.0.0.1",
        port=0,
        origin=f"temporary cluster in {tmp}",
    )
    server._stop.append(cleanup)
    try:
        # Trust auth: the server only listens on loopback and lives for one test session.
        done = run(
            str(bindir / "initdb"),
            "-D",
            str(data),
            "-U",
            server.user,
            "--auth=trust",
            "--encoding=UTF8",
            "--no-locale",
            "--no-sync",
        )
        if done.returncode != 0:
            raise PgUnavailable(f"initdb failed: {(done.stderr or done.stdout).strip()}")
        # Durability is irrelevant for a throwaway cluster; skipping fsync keeps TRUNCATE fast.
        options = (
            "-c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off "
            f"-c full_page_writes=off -c unix_socket_directories={tmp} -c max_connections=50"
        )
        last_error = ""
        for _attempt in range(3):
            port = _free_port()
            done = run(
                str(bindir / "pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(log),
                "-w",
                "-t",
                str(START_TIMEOUT),
                "-o",
                f"{options} -p {port}",
                "start",
                timeout=START_TIMEOUT + 10,
            )
            if done.returncode == 0:
                server.port = port
                break
            last_error = (done.stderr or done.stdout).strip()
            with contextlib.suppress(OSError):
                last_error += "\n" + log.read_text()[-2000:]
        else:
            raise PgUnavailable(f"pg_ctl start failed: {last_error}")

        def stop_server() -> None:
            run(str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")

        server._stop.append(stop_server)
        atexit.register(server.stop)  # also stop it if the session dies before teardown
        done = run(
            str(bindir / "createdb"),
            "-h",
            "127.0.0.1",
            "-p",
            str(server.port),
            "-U",
            server.user,
            server.name,
        )
        if done.returncode != 0:
            raise PgUnavailable(f"createdb failed: {(done.stderr or done.stdout).strip()}")
        _check_server(server)
    except PgUnavailable:
        server.stop()
        raise
    except (OSError, subprocess.SubprocessError) as exc:
        server.stop()
        raise PgUnavailable(f"could not start a temporary PostgreSQL cluster: {exc}") from exc
    return server
