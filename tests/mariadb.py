"""A throwaway MariaDB server for the isolation-level race tests (tests/test_isolation_race.py).

``provide_mariadb()`` returns connection parameters for a server the tests may freely create
databases and tables in, or raises ``MariaDBUnavailable`` with a reason that the caller turns into
a skip (or a failure under ``GOC_REQUIRE_MARIADB=1``). In order of preference:

1. ``GOC_MARIADB_EXTERNAL=1``: use the server described by the ``GOC_MARIADB_*`` variables.
2. ``mariadb-install-db`` a data directory in a temporary folder and run ``mariadbd`` on it,
   listening on 127.0.0.1 on a free port, with ``--no-defaults`` so that nothing in
   /etc/mysql (an isolation level, a socket path) leaks in: the server runs with MariaDB's own
   defaults, REPEATABLE READ included. As root the server runs with ``--user=root`` (mariadbd
   refuses root otherwise); the data directory lives and dies with the test session.

Binaries: Debian's ``mariadb-server`` package (``/usr/sbin/mariadbd``, ``mariadb-install-db``);
``GOC_MARIADB_BINDIR`` points elsewhere. The driver is PyMySQL (a test dependency).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pg import _free_port  # one free-port helper for both throwaway servers

DEFAULTS = {
    "GOC_MARIADB_NAME": "goc",
    "GOC_MARIADB_USER": "goc",
    "GOC_MARIADB_PASSWORD": "goc",
    "GOC_MARIADB_HOST": "127.0.0.1",
    "GOC_MARIADB_PORT": "3306",
}
START_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0
SERVER_NAMES = ("mariadbd", "mysqld")
INSTALL_NAMES = ("mariadb-install-db", "mysql_install_db")
# Durability is irrelevant for a throwaway server; these keep start-up and commits fast.
SERVER_OPTIONS = (
    "--bind-address=127.0.0.1",
    "--skip-name-resolve",
    "--skip-log-bin",
    "--innodb-buffer-pool-size=32M",
    "--innodb-log-file-size=16M",
    "--innodb-flush-log-at-trx-commit=0",
    "--innodb-doublewrite=0",
    # Containers often refuse Linux native AIO (io_setup/io_uring); plain threads always work.
    "--innodb-use-native-aio=0",
    "--innodb-lock-wait-timeout=15",
    "--max-connections=50",
    "--character-set-server=utf8mb4",
    "--collation-server=utf8mb4_unicode_ci",
)


class MariaDBUnavailable(Exception):
    """No usable MariaDB server; the message says why."""


@dataclass
class MariaDBServer:
    name: str
    user: str
    password: str
    host: str
    port: int
    origin: str
    version: str = ""
    # Cleanup callbacks, run last-in first-out by stop().
    _stop: list[Callable[[], None]] = field(default_factory=list, repr=False)

    @property
    def env(self) -> dict[str, str]:
        return {
            "GOC_MARIADB_NAME": self.name,
            "GOC_MARIADB_USER": self.user,
            "GOC_MARIADB_PASSWORD": self.password,
            "GOC_MARIADB_HOST": self.host,
            "GOC_MARIADB_PORT": str(self.port),
        }

    def connect(self, database: str | None = None) -> object:
        """A PyMySQL connection (autocommit) as the test user."""
        import pymysql

        return pymysql.connect(
            host=self.host,
            port=self.port,
            user=self.user,
            password=self.password,
            database=database,
            connect_timeout=5,
            autocommit=True,
        )

    def create_database(self, name: str) -> None:
        """(Re)create an empty database, so each settings module of a run gets its own."""
        conn = self.connect()
        try:
            with conn.cursor() as cursor:  # type: ignore[attr-defined]
                cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
                cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
        finally:
            conn.close()  # type: ignore[attr-defined]

    def stop(self) -> None:
        while self._stop:
            self._stop.pop()()


def provide_mariadb() -> MariaDBServer:
    """Return a usable server (started if needed) or raise ``MariaDBUnavailable``."""
    try:
        import pymysql  # noqa: F401
    except ImportError as exc:  # pragma: no cover - pymysql is a test dependency
        raise MariaDBUnavailable(f"PyMySQL is not installed: {exc}") from exc
    if os.environ.get("GOC_MARIADB_EXTERNAL") == "1":
        values = {name: os.environ.get(name, default) for name, default in DEFAULTS.items()}
        server = MariaDBServer(
            name=values["GOC_MARIADB_NAME"],
            user=values["GOC_MARIADB_USER"],
            password=values["GOC_MARIADB_PASSWORD"],
            host=values["GOC_MARIADB_HOST"],
            port=int(values["GOC_MARIADB_PORT"]),
            origin="external server (GOC_MARIADB_EXTERNAL=1)",
        )
        server.version = _check(server)
        return server
    return _start_temporary_server()


def _check(server: MariaDBServer) -> str:
    import pymysql

    try:
        conn = server.connect()
    except pymysql.Error as exc:
        raise MariaDBUnavailable(
            f"cannot connect to {server.origin} at {server.host}:{server.port} as "
            f"{server.user!r}: {exc}"
        ) from exc
    try:
        with conn.cursor() as cursor:  # type: ignore[attr-defined]
            cursor.execute("SELECT VERSION()")
            (version,) = cursor.fetchone()
    finally:
        conn.close()  # type: ignore[attr-defined]
    if "mariadb" not in str(version).lower():
        raise MariaDBUnavailable(f"{server.origin} is not MariaDB (VERSION() = {version!r})")
    return str(version)


def _which(names: tuple[str, ...], extra_dirs: list[Path]) -> Path | None:
    for directory in extra_dirs:
        for name in names:
            if (directory / name).is_file():
                return directory / name
    search = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/usr/libexec", "/sbin"])
    for name in names:
        found = shutil.which(name, path=search)
        if found:
            return Path(found)
    return None


def find_binaries() -> tuple[Path, Path]:
    """The server binary and the data-directory installer."""
    extra = [Path(d) for d in [os.environ.get("GOC_MARIADB_BINDIR")] if d]
    server = _which(SERVER_NAMES, extra)
    install = _which(INSTALL_NAMES, extra)
    if server is None or install is None:
        missing = " and ".join(
            what
            for what, path in (("mariadbd", server), ("mariadb-install-db", install))
            if path is None
        )
        raise MariaDBUnavailable(
            f"no MariaDB server binaries found ({missing} missing): install Debian's "
            "mariadb-server package (apt-get install mariadb-server), set GOC_MARIADB_BINDIR, or "
            "point GOC_MARIADB_* at a running server with GOC_MARIADB_EXTERNAL=1"
        )
    return server, install


def _user_args() -> list[str]:
    # mariadbd refuses to run as root unless told to; the temp directory then stays root's own.
    return ["--user=root"] if os.geteuid() == 0 else []


def _tail(path: Path, size: int = 2000) -> str:
    with contextlib.suppress(OSError):
        return path.read_text(errors="replace")[-size:]
    return ""


def _start_temporary_server() -> MariaDBServer:
    server_bin, install_bin = find_binaries()
    tmp = Path(tempfile.mkdtemp(prefix="goc-mdb-"))
    data, sock, log = tmp / "data", tmp / "sock", tmp / "server.log"
    server = MariaDBServer(
        name=DEFAULTS["GOC_MARIADB_NAME"],
        user=DEFAULTS["GOC_MARIADB_USER"],
        password=DEFAULTS["GOC_MARIADB_PASSWORD"],
        host="127.0.0.1",
        port=0,
        origin=f"temporary MariaDB server in {tmp}",
    )
    server._stop.append(lambda: shutil.rmtree(tmp, ignore_errors=True))
    try:
        done = subprocess.run(
            [
                str(install_bin),
                "--no-defaults",
                f"--datadir={data}",
                "--auth-root-authentication-method=normal",  # root@localhost, no password
                "--skip-test-db",
                "--skip-name-resolve",
                *_user_args(),
            ],
            capture_output=True,
            text=True,
            timeout=START_TIMEOUT * 2,
            check=False,
        )
        if done.returncode != 0:
            raise MariaDBUnavailable(
                f"{install_bin.name} failed: {(done.stderr or done.stdout).strip()[-2000:]}"
            )
        last_error = ""
        for _attempt in range(3):
            port = _free_port()
            process = _launch(server_bin, data, sock, log, port)
            error = _wait_ready(process, sock, log)
            if error is None:
                server.port = port
                server._stop.append(lambda p=process: _terminate(p))
                break
            _terminate(process)
            last_error = error
        else:
            raise MariaDBUnavailable(f"mariadbd did not start: {last_error}")
        atexit.register(server.stop)  # also stop it if the session dies before teardown
        _create_user(server, sock)
        server.version = _check(server)
    except MariaDBUnavailable:
        server.stop()
        raise
    except (OSError, subprocess.SubprocessError) as exc:
        server.stop()
        raise MariaDBUnavailable(f"could not start a temporary MariaDB server: {exc}") from exc
    except BaseException:
        server.stop()
        raise
    return server


def _launch(
    server_bin: Path, data: Path, sock: Path, log: Path, port: int
) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            str(server_bin),
            "--no-defaults",  # must come first
            f"--datadir={data}",
            f"--socket={sock}",
            f"--port={port}",
            f"--pid-file={data / 'mariadbd.pid'}",
            f"--log-error={log}",
            f"--tmpdir={data.parent}",
            *SERVER_OPTIONS,
            *_user_args(),
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # a Ctrl-C in the terminal reaches pytest, which stops us
    )


def _wait_ready(process: subprocess.Popen[bytes], sock: Path, log: Path) -> str | None:
    """None once the server answers on its socket, else why it did not."""
    import pymysql

    deadline = time.monotonic() + START_TIMEOUT
    last = ""
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return f"exited with code {process.returncode}; log:\n{_tail(log)}"
        if sock.exists():
            try:
                pymysql.connect(unix_socket=str(sock), user="root", connect_timeout=2).close()
                return None
            except pymysql.Error as exc:
                last = str(exc)
        time.sleep(0.1)
    return f"not ready after {START_TIMEOUT}s ({last}); log:\n{_tail(log)}"


def _terminate(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        process.send_signal(signal.SIGTERM)
    try:
        process.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(STOP_TIMEOUT)


def _create_user(server: MariaDBServer, sock: Path) -> None:
    import pymysql

    conn = pymysql.connect(unix_socket=str(sock), user="root", connect_timeout=5, autocommit=True)
    try:
        with conn.cursor() as cursor:
            cursor.execute(f"CREATE DATABASE IF NOT EXISTS `{server.name}`")
            for host in ("127.0.0.1", "localhost"):
                cursor.execute(
                    f"CREATE USER IF NOT EXISTS '{server.user}'@'{host}' "
                    f"IDENTIFIED BY '{server.password}'"
                )
                # The race tests create a database per settings module.
                cursor.execute(f"GRANT ALL PRIVILEGES ON *.* TO '{server.user}'@'{host}'")
    finally:
        conn.close()
