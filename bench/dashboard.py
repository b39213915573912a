"""Dashboard benchmark: the demo organisation at scale, its pages under concurrent load.

    python -m bench.dashboard [--clusters 200] [--days 365] [--findings-per-cluster 2000]
        [--clients 8] [--requests 200] [--rounds 4] [--reuse] [--drop]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/leftover_bench]

What it does, in order:

1. Drops and re-creates the bench database (its name must contain "bench": this command
   deletes it) and applies the migrations, as ``leftover migrate`` does. The database is
   kept afterwards (``--drop`` drops it): ``--reuse`` measures it again without seeding.
2. Creates one user (as ``leftover create-user`` does), then seeds the demo organisation with
   ``app.demo.seed.seed_demo`` at the given size — the real engine on generated clusters, a
   daily history — making the user an admin of it. Prints the seeding time and rows per table,
   then VACUUMs (ANALYZE) the database, as autovacuum would have done to a year-old one.
3. Starts the web app as ``leftover serve`` starts it (uvicorn, one worker, a child process on
   a free port) on the bench database, signs in over HTTP through the sign-in form, and
   switches to the demo organisation through the organisation switcher.
4. Requests each page with ``--clients`` concurrent clients (threads, each its own keep-alive
   httpx client carrying the session cookie): ``/healthz`` — the trivial route, which still
   runs the app-wide session lookup because it also gets the cookie — then the dashboard
   (default and ``?days=365&by=kind``), the findings explorer without filters, with filters,
   a later page reached through the explorer's own keyset "next" link, the results table the
   filter form fetches over HTMX, and a finding's detail page (rotating over 50 findings).

Methodology: every page first gets a warm-up (two requests per client, not measured). Then
``--rounds`` rounds; in each round every page in turn gets ``requests / rounds`` requests from
all clients at once (closed loop: a client sends its next request when the last answered).
Interleaving the pages over rounds spreads background noise over all of them, and the trivial
route is measured in the same rounds, so the ratio p95(page) / p95(trivial) cancels what the
machine, the client threads and uvicorn cost every request. Latency is measured on the client:
from sending the request to reading the whole body. A non-200 answer counts as an error; a
route that answers 404 to its warm-up is reported as missing and not measured.

Targets (issue 5): p95 under 150 ms for every page, and under 10x the trivial route's p95.
Exit status 0 when every measured page passes, 1 otherwise.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/leftover_bench"
EMAIL = "bench@example.com"
P95_LIMIT_MS = 150.0
RATIO_LIMIT = 10.0
CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')
NEXT_LINK = re.compile(r'(?:href|hx-get)="(/findings\?[^"]*(?:cursor|after)=[^"]*)"')


@dataclass
class Page:
    label: str
    paths: list[str]  # rotated over, one per request
    headers: dict[str, str] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)  # milliseconds
    errors: dict[int, int] = field(default_factory=dict)  # status -> count, measured rounds
    warmup: dict[int, int] = field(default_factory=dict)  # status -> count, warm-up
    missing: str = ""  # why it was not measured

    def path(self, n: int) -> str:
        return self.paths[n % len(self.paths)]


# --- database -------------------------------------------------------------------------------


def bench_database(url: str) -> tuple[str, str]:
    """(the server's maintenance database as a libpq URL, the bench database's name); only
    a PostgreSQL database whose name says "bench", as this command drops it."""
    parsed = make_url(url)
    name = parsed.database or ""
    if parsed.get_backend_name() != "postgresql" or not re.fullmatch(r"\w*bench\w*", name):
        sys.exit(f"bench: refusing to use {name!r}: give a PostgreSQL database named *bench*")
    admin = parsed.set(drivername="postgresql", database="postgres")
    return admin.render_as_string(hide_password=False), name


def recreate_database(url: str) -> None:
    import psycopg

    admin, name = bench_database(url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_database(url: str) -> None:
    import psycopg

    admin, name = bench_database(url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def database_exists(url: str) -> bool:
    import psycopg

    admin, name = bench_database(url)
    with psycopg.connect(admin, autocommit=True) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
        return found.fetchone() is not None


def table_rows(factory: sessionmaker[Session]) -> dict[str, int]:
    from app.db import Base

    with factory() as session:
        return {
            name: int(session.scalar(select(func.count()).select_from(table)) or 0)
            for name, table in sorted(Base.metadata.tables.items())
        }


@dataclass(frozen=True)
class Targets:
    cluster_id: uuid.UUID
    namespace: str
    finding_ids: list[uuid.UUID]


def pick_targets(factory: sessionmaker[Session], org_id: uuid.UUID) -> Targets:
    """A cluster and its busiest namespace, and 50 findings spread over the organisation."""
    from app.scans.models import Finding

    with factory() as session:
        cluster_id, namespace = session.execute(
            select(Finding.cluster_id, Finding.namespace)
            .where(Finding.org_id == org_id, Finding.namespace.is_not(None))
            .group_by(Finding.cluster_id, Finding.namespace)
            .order_by(func.count().desc(), Finding.cluster_id)
            .limit(1)
        ).one()
        ids = list(
            session.scalars(select(Finding.id).where(Finding.org_id == org_id).order_by(Finding.id))
        )
    rng = random.Random(7)  # picking pages to load, not a secret
    return Targets(cluster_id, str(namespace), rng.sample(ids, min(50, len(ids))))


# --- the server -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_env(url: str, data_dir: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEFTOVER_")}
    env.update(
        LEFTOVER_MODE="local",
        LEFTOVER_DATABASE_URL=url,
        LEFTOVER_DATA_DIR=str(data_dir),
        LEFTOVER_SECRET_KEY=secrets.token_urlsafe(48),
        LEFTOVER_BASE_URL=f"http://127.0.0.1:{port}",
    )
    return env


def start_server(
    env: dict[str, str], port: int, log: Path, *, workers: int
) -> subprocess.Popen[bytes]:
    """``leftover serve`` on the bench database; returns once /healthz answers."""
    command = ["serve", "--port", str(port), "--workers", str(workers)]
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "app.cli", *command],
            env=env,
            cwd=env["LEFTOVER_DATA_DIR"],  # no developer .env file is read
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"bench: the web server exited ({proc.returncode}); see {log}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    proc.terminate()
    sys.exit(f"bench: the web server did not answer within 60 s; see {log}")


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def sign_in(base: str, password: str, org_id: uuid.UUID) -> httpx.Cookies:
    """Sign in through the form and switch to the demo organisation; the session's cookies."""
    with httpx.Client(base_url=base, follow_redirects=False, timeout=30) as client:
        token = _csrf(client, "/signin")
        done = client.post(
            "/signin", data={"email": EMAIL, "password": password, "csrf_token": token}
        )
        if done.status_code != 303:
            sys.exit(f"bench: signing in failed ({done.status_code})")
        token = _csrf(client, "/account")
        switched = client.post("/orgs/switch", data={"org_id": str(org_id), "csrf_token": token})
        if switched.status_code != 303:
            sys.exit(f"bench: switching to the demo organisation failed ({switched.status_code})")
        return client.cookies


def check_demo(base: str, cookies: httpx.Cookies) -> None:
    """The session shows the demo organisation (else the figures would be another org's)."""
    from app.demo.seed import DEMO_ORG_NAME

    page = httpx.get(f"{base}/", cookies=cookies, timeout=60)
    if page.status_code != 200 or DEMO_ORG_NAME not in page.text:
        sys.exit(f"bench: the dashboard does not show {DEMO_ORG_NAME!r} ({page.status_code})")


def _csrf(client: httpx.Client, path: str) -> str:
    match = CSRF_INPUT.search(client.get(path).text)
    if match is None:
        sys.exit(f"bench: no CSRF token on {path}")
    return match.group(1)


# --- load -----------------------------------------------------------------------------------


def pages(targets: Targets, next_page: str | None) -> list[Page]:
    details = [f"/findings/{i}" for i in targets.finding_ids]
    listed = [
        Page("trivial /healthz", ["/healthz"]),
        Page("dashboard /", ["/"]),
        Page("dashboard 365d by kind", ["/?days=365&by=kind"]),
        Page("explorer /findings", ["/findings"]),
        Page("explorer kind+min_cost", ["/findings?kind=ConfigMap&min_cost=0"]),
        Page(
            "explorer cluster+namespace",
            [f"/findings?cluster={targets.cluster_id}&namespace={targets.namespace}"],
        ),
        Page("explorer high+new 7d", ["/findings?confidence=high&new_since=7d"]),
        Page(
            "explorer HTMX results",
            ["/findings?kind=Secret&sort=age"],
            headers={"HX-Request": "true", "HX-Target": "findings-results"},
        ),
        Page("explorer next page", [next_page] if next_page else []),
        Page("finding detail", details),
    ]
    for page in listed:
        if not page.paths:
            page.missing = "no keyset next-page link on /findings"
    return listed


def find_next_page(base: str, cookies: httpx.Cookies) -> str | None:
    with httpx.Client(base_url=base, cookies=cookies, timeout=30) as client:
        response = client.get("/findings")
    if response.status_code != 200:
        return None
    match = NEXT_LINK.search(response.text)
    return match.group(1).replace("&amp;", "&") if match else None


class Load:
    """``clients`` threads, each with its own keep-alive client carrying the session."""

    def __init__(self, base: str, cookies: httpx.Cookies, clients: int) -> None:
        self.clients = clients
        self.pool = ThreadPoolExecutor(max_workers=clients)
        self._local = threading.local()
        self._made: list[httpx.Client] = []
        self._lock = threading.Lock()
        self.base, self.cookies = base, cookies

    def _client(self) -> httpx.Client:
        client: httpx.Client | None = getattr(self._local, "client", None)
        if client is None:
            client = httpx.Client(
                base_url=self.base, cookies=self.cookies, follow_redirects=False, timeout=60
            )
            self._local.client = client
            with self._lock:
                self._made.append(client)
        return client

    def run(self, page: Page, count: int, *, record: bool) -> None:
        """``count`` requests of ``page`` from all clients at once (closed loop)."""
        counter = iter(range(count))
        lock = threading.Lock()

        def worker(_: int) -> list[tuple[float, int]]:
            client = self._client()
            out: list[tuple[float, int]] = []
            while True:
                with lock:
                    n = next(counter, None)
                if n is None:
                    return out
                start = time.perf_counter()
                response = client.get(page.path(n), headers=page.headers)
                out.append(((time.perf_counter() - start) * 1000, response.status_code))

        for measured in self.pool.map(worker, range(self.clients)):
            for ms, status in measured:
                if not record:
                    page.warmup[status] = page.warmup.get(status, 0) + 1
                elif status != 200:
                    page.errors[status] = page.errors.get(status, 0) + 1
                else:
                    page.latencies.append(ms)

    def close(self) -> None:
        self.pool.shutdown()
        for client in self._made:
            client.close()


def measure(load: Load, listed: Sequence[Page], *, requests: int, rounds: int) -> None:
    for page in listed:
        if page.missing:
            continue
        load.run(page, 2 * load.clients, record=False)
        if 200 not in page.warmup:
            page.missing = f"answers {', '.join(str(s) for s in sorted(page.warmup))}"
    per_round = max(1, requests // rounds)
    for _ in range(rounds):
        for page in listed:
            if not page.missing:
                load.run(page, per_round, record=True)


def p(values: Sequence[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def report(listed: Sequence[Page], out: Callable[[str], None]) -> bool:
    trivial = p(listed[0].latencies, 0.95)
    out(f"{'page':<28} {'n':>5} {'err':>4} {'p50 ms':>8} {'p95 ms':>8} {'p95/triv':>9}  verdict")
    passed = True
    for page in listed:
        if page.missing:
            dashes = f"{'-':>5} {'-':>4} {'-':>8} {'-':>8} {'-':>9}"
            out(f"{page.label:<28} {dashes}  MISSING ({page.missing})")
            continue
        p50, p95 = statistics.median(page.latencies or [float("nan")]), p(page.latencies, 0.95)
        ratio = p95 / trivial if trivial else float("nan")
        errors = sum(page.errors.values())
        ok = p95 < P95_LIMIT_MS and (page is listed[0] or ratio < RATIO_LIMIT) and not errors
        passed = passed and ok
        verdict = "PASS" if ok else "FAIL"
        if errors:
            verdict += f" ({', '.join(f'{n}x{s}' for s, n in sorted(page.errors.items()))})"
        out(
            f"{page.label:<28} {len(page.latencies):>5} {errors:>4} {p50:>8.1f} {p95:>8.1f} "
            f"{ratio:>9.2f}  {verdict}"
        )
    out(f"targets: p95 < {P95_LIMIT_MS:.0f} ms and < {RATIO_LIMIT:.0f}x the trivial route's p95")
    return passed


# --- main -----------------------------------------------------------------------------------


def prepare(
    args: argparse.Namespace, tmp: Path, say: Callable[[str], None]
) -> tuple[uuid.UUID, str]:
    """A migrated, seeded bench database with the bench user in the demo organisation;
    returns (demo organisation id, the bench user's password for this run)."""
    from app.accounts import service
    from app.accounts.models import Organisation
    from app.config import Settings
    from app.db import make_engine, make_sessionmaker, session_scope, utcnow
    from app.demo.generate import scale_for_findings
    from app.demo.seed import seed_demo
    from app.ops import migrate
    from app.security import hash_password

    url, password = args.database_url, secrets.token_urlsafe(16)
    if args.reuse and database_exists(url):
        engine = make_engine(url)
        try:
            with session_scope(make_sessionmaker(engine)) as session:
                user = service.get_user_by_email(session, EMAIL)
                org_id = session.scalar(select(Organisation.id).where(Organisation.is_demo))
                if user is not None and org_id is not None:
                    user.password_hash = hash_password(password)
                    say(f"reusing the seeded database {make_url(url).database}")
                    return org_id, password
        finally:
            engine.dispose()
        say("nothing to reuse: seeding afresh")
    recreate_database(url)
    migrate(Settings(_env_file=None, database_url=url, data_dir=tmp))  # type: ignore[call-arg]
    engine = make_engine(url)
    try:
        factory = make_sessionmaker(engine)
        with session_scope(factory) as session:
            service.create_user_with_org(
                session, email=EMAIL, password=password, org_name="Bench's own"
            )
        scale = scale_for_findings(args.findings_per_cluster)
        say(f"seeding {args.clusters} clusters x {args.days} days (scale {scale}) …")
        started = time.perf_counter()
        seeded = seed_demo(
            factory,
            clusters=args.clusters,
            days=args.days,
            seed=args.seed,
            scale=scale,
            now=utcnow(),
            progress=lambda line: print(line, file=sys.stderr, flush=True),
        )
        say(f"seeded in {time.perf_counter() - started:.1f} s")
        for name, count in table_rows(factory).items():
            if count:
                say(f"  {name:<28} {count:>12,}")
    finally:
        engine.dispose()
    started = time.perf_counter()
    vacuum(url)
    say(f"vacuumed in {time.perf_counter() - started:.1f} s (as autovacuum would have by now)")
    return seeded.org_id, password


def vacuum(url: str) -> None:
    """VACUUM ANALYZE the bench database: a year-old database has its visibility maps set,
    which index-only scans rely on; a freshly loaded one does not."""
    import psycopg

    target = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(target, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE)")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.dashboard",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--clusters", type=int, default=200)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--findings-per-cluster", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=200, help="measured requests per page")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument(
        "--only",
        metavar="WORDS",
        help="measure only pages whose label has one of these words "
        "(comma-separated, e.g. 'dashboard,detail'); the trivial route is always measured",
    )
    parser.add_argument(
        "--workers", type=int, default=1, help="web worker processes (default 1, as `leftover run`)"
    )
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument(
        "--reuse", action="store_true", help="measure the database a previous run left seeded"
    )
    parser.add_argument("--drop", action="store_true", help="drop the bench database afterwards")
    args = parser.parse_args(argv)

    from app.db import make_engine, make_sessionmaker

    def say(line: str) -> None:
        print(line, flush=True)

    url = args.database_url
    with tempfile.TemporaryDirectory(prefix="leftover-bench-") as tmp_name:
        tmp = Path(tmp_name)
        org_id, password = prepare(args, tmp, say)
        engine = make_engine(url)
        try:
            targets = pick_targets(make_sessionmaker(engine), org_id)
        finally:
            engine.dispose()
        port = free_port()
        env = server_env(url, tmp, port)
        server = start_server(env, port, tmp / "server.log", workers=args.workers)
        try:
            base = f"http://127.0.0.1:{port}"
            cookies = sign_in(base, password, org_id)
            check_demo(base, cookies)
            listed = pages(targets, find_next_page(base, cookies))
            if args.only:
                words = [w.strip() for w in args.only.split(",") if w.strip()]
                listed = [listed[0], *(p for p in listed[1:] if any(w in p.label for w in words))]
            load = Load(base, cookies, args.clients)
            try:
                say(
                    f"measuring {args.requests} requests per page, {args.clients} clients, "
                    f"{args.rounds} rounds, {args.workers} web worker(s), {os.cpu_count()} CPUs, "
                    f"load average {_load()} …"
                )
                measure(load, listed, requests=args.requests, rounds=args.rounds)
                say(f"done, load average {_load()}")
            finally:
                load.close()
        finally:
            stop_server(server)
    passed = report(listed, say)
    if args.drop:
        drop_database(url)
    else:
        say(f"kept {make_url(url).database}: --reuse measures it again without seeding")
    return 0 if passed else 1


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


if __name__ == "__main__":
    sys.exit(main())
