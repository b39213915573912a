"""The ``leftover`` command: one argparse parser, one sub-parser per subcommand.

Subcommands register themselves in ``COMMANDS`` (name, help, how to add their arguments, how to
run); ``main`` parses, dispatches and turns every user error into one line on stderr and an exit
status. Exit statuses: 0 done, 1 findings found with ``--fail-on-findings``, 2 bad input (usage,
files, flag values), 3 the cluster could not be read (unreachable, credentials refused, the
credential plugin failed). No traceback is printed for any of those.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import IO, TYPE_CHECKING, NoReturn

from app.analysis.model import Confidence, Options
from app.kube.kinds import REPORTABLE_KINDS, resolve_kind
from app.kube.snapshot import Snapshot

if TYPE_CHECKING:
    from app.kube.reader import ReadProgress

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_INPUT = 2
EXIT_CLUSTER = 3
EXIT_INTERRUPTED = 130

PROG = "leftover"


class InputError(Exception):
    """Bad input from the user (a file, a flag value): exit 2 with this one-line message."""


class ClusterError(Exception):
    """The cluster could not be read: exit 3 with this one-line message."""


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr (still exit status 2)."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_INPUT, f"{PROG}: error: {message} (see '{self.prog} --help')\n")


@dataclass(frozen=True)
class Command:
    name: str
    summary: str
    description: str
    examples: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


# --- flag values -------------------------------------------------------------------------------

_DURATION_PART = re.compile(r"(\d+)([smhdw])")
_UNIT = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(value: str) -> timedelta:
    """``30m``, ``12h``, ``7d``, ``2w`` or a sum like ``1d12h``; ArgumentTypeError otherwise."""
    text = value.strip().lower()
    parts = _DURATION_PART.findall(text)
    if not text or "".join(n + u for n, u in parts) != text:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a duration; use a number and a unit, e.g. 30m, 12h, 7d or 2w"
        )
    total = timedelta(0)
    for number, unit in parts:
        total += timedelta(**{_UNIT[unit]: int(number)})
    return total


def _names(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def parse_namespaces(value: str) -> frozenset[str]:
    """A comma-separated list of namespace names (at least one)."""
    names = _names(value)
    if not names:
        raise argparse.ArgumentTypeError("give at least one namespace, e.g. default,kube-system")
    return frozenset(names)


def parse_kinds(value: str) -> frozenset[str]:
    """Kinds by Kind name, plural or kubectl short name; only kinds Leftover reports."""
    kinds: set[str] = set()
    for name in _names(value) or [value]:
        spec = resolve_kind(name)
        if spec is None:
            raise argparse.ArgumentTypeError(
                f"unknown kind {name!r}; kinds Leftover reports: {', '.join(REPORTABLE_KINDS)}"
            )
        if spec.kind not in REPORTABLE_KINDS:
            raise argparse.ArgumentTypeError(
                f"{spec.kind} is read only as evidence and never reported; "
                f"kinds Leftover reports: {', '.join(REPORTABLE_KINDS)}"
            )
        kinds.add(spec.kind)
    return frozenset(kinds)


def parse_confidence(value: str) -> Confidence:
    try:
        return Confidence.parse(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


# --- scan --------------------------------------------------------------------------------------

SCAN_DESCRIPTION = """\
Find what a Kubernetes cluster left behind (unused ConfigMaps, Secrets, PVCs, PVs, Services,
idle workloads, dangling RBAC, …) and estimate what it costs at list prices.

Read a live cluster through your kubeconfig (like kubectl: contexts, certificates, tokens and
credential plugins such as `aws eks get-token`, which are run as kubectl would run them), or a
saved dump made with `kubectl get … -A -o json|yaml`. Leftover only reads: it lists objects,
never changes them, and reads Secrets as metadata only."""

SCAN_EXAMPLES = """\
examples:
  # the current context of $KUBECONFIG or ~/.kube/config
  leftover scan --kubeconfig

  # one context, only storage, fail a CI job when something is found
  leftover scan --kubeconfig ~/.kube/config --context prod-eu \\
      --kinds pvc,pv --min-confidence medium --fail-on-findings

  # a kubectl dump, piped (a saved file would keep Secret values; Leftover drops them)
  kubectl get all,ns,cm,secret,sa,pvc,pv,ing,netpol,role,rolebinding,clusterrole,\\
clusterrolebinding,hpa,pdb,pc,sc,crd,nodes,endpointslices,volumeattachments -A -o json \\
      | leftover scan --snapshot - --output json

  # only objects older than a week, outside the system namespaces, as YAML
  leftover scan --kubeconfig --older-than 7d \\
      --exclude-namespaces kube-system,kube-public --output yaml

exit status:
  0  done   1  findings with --fail-on-findings   2  bad input   3  cluster not readable"""


def _add_scan_arguments(p: argparse.ArgumentParser) -> None:
    source = p.add_argument_group("what to scan (one of)").add_mutually_exclusive_group(
        required=True
    )
    source.add_argument(
        "--kubeconfig",
        metavar="PATH",
        nargs="?",
        const="",
        help="read the live cluster of this kubeconfig; without PATH, $KUBECONFIG or "
        "~/.kube/config",
    )
    source.add_argument(
        "--snapshot",
        metavar="FILE",
        help="read a `kubectl get … -o json|yaml` dump; `-` reads standard input",
    )
    p.add_argument(
        "--context", metavar="NAME", help="kubeconfig context (default: the current context)"
    )

    report = p.add_argument_group("what to report")
    namespaces = report.add_mutually_exclusive_group()
    namespaces.add_argument(
        "--include-namespaces",
        metavar="A,B",
        type=parse_namespaces,
        default=frozenset(),
        help="only these namespaces (cluster-scoped objects are then left out)",
    )
    namespaces.add_argument(
        "--exclude-namespaces",
        metavar="A,B",
        type=parse_namespaces,
        default=frozenset(),
        help="every namespace but these",
    )
    report.add_argument(
        "--kinds",
        metavar="KIND,…",
        type=parse_kinds,
        default=frozenset(),
        help="only these kinds: names, plurals or short names (cm,secret,pvc); every kind is "
        "still read, as the references between objects need them",
    )
    report.add_argument(
        "--older-than",
        metavar="AGE",
        type=parse_duration,
        default=timedelta(0),
        help="only objects at least this old: 30m, 12h, 7d, 2w",
    )
    report.add_argument(
        "--min-confidence",
        metavar="LEVEL",
        type=parse_confidence,
        default=Confidence.LOW,
        help="high, medium or low (default: low — low-confidence findings are listed for "
        "review and left out of the total)",
    )
    report.add_argument(
        "--provider",
        choices=("auto", "aws", "gcp", "azure"),
        default="auto",
        help="cloud whose prices apply (default: auto, detected from the nodes)",
    )
    report.add_argument(
        "--region", metavar="R", help="region whose prices apply (default: detected)"
    )

    out = p.add_argument_group("output")
    out.add_argument(
        "-o",
        "--output",
        choices=("table", "json", "yaml"),
        default="table",
        help="table (default), or one JSON/YAML document with cluster, summary, findings "
        "and warnings",
    )
    out.add_argument(
        "--fail-on-findings",
        action="store_true",
        help="exit with status 1 when any finding at or above --min-confidence is found",
    )


def _scan_options(args: argparse.Namespace) -> Options:
    return Options(
        include_namespaces=args.include_namespaces,
        exclude_namespaces=args.exclude_namespaces,
        kinds=args.kinds,
        older_than=args.older_than,
        min_confidence=args.min_confidence,
        provider=None if args.provider == "auto" else args.provider,
        region=args.region or None,
    )


def run_scan(args: argparse.Namespace) -> int:
    """Read (a file or a live cluster), analyse, print; the exit status says what happened."""
    from app.memory import cyclic_gc_paused

    with cyclic_gc_paused():
        return _scan(args)


def _scan(args: argparse.Namespace) -> int:
    options = _scan_options(args)
    if args.snapshot is not None:
        if args.context:
            raise InputError("--context applies to --kubeconfig, not to --snapshot")
        snapshot = _snapshot_from_file(args.snapshot)
    else:
        snapshot = _snapshot_from_cluster(args.kubeconfig, args.context, options)
    from app.analysis import analyze
    from app.pricing.book import load_default_price_book
    from app.render import render_json, render_table, render_yaml, report_warnings

    now = datetime.now(UTC)
    result = analyze(snapshot, prices=load_default_price_book(), options=options, now=now)

    if args.output == "json":
        text = render_json(result, snapshot)
    elif args.output == "yaml":
        text = render_yaml(result, snapshot)
    else:
        text = render_table(
            result,
            snapshot.cluster,
            width=shutil.get_terminal_size().columns,
            color=_use_color(sys.stdout),
            warnings=report_warnings(result, snapshot),
        )
    _write(sys.stdout, text)
    return EXIT_FINDINGS if args.fail_on_findings and result.findings else EXIT_OK


def _snapshot_from_file(path: str) -> Snapshot:
    from app.kube.snapshot_file import SnapshotFileError, load_snapshot

    if path == "-":
        source = "stdin"
        if sys.stdin.isatty():
            print(f"{PROG}: reading a snapshot from standard input…", file=sys.stderr)
        data = sys.stdin.buffer.read()
    else:
        source = path
        try:
            with open(path, "rb") as fh:
                data = fh.read()
        except OSError as exc:
            raise InputError(f"{path}: {(exc.strerror or type(exc).__name__).lower()}") from None
    try:
        return load_snapshot(data, source=source)
    except SnapshotFileError as exc:
        raise InputError(str(exc)) from None


def _snapshot_from_cluster(path: str, context: str | None, options: Options) -> Snapshot:
    # Imported here: resolving a local kubeconfig is the CLI's business only (SECURITY.md 3).
    from app.kube.local_kubeconfig import (
        CredentialPluginError,
        KubeconfigError,
        default_kubeconfig_path,
        load_local_cluster,
    )
    from app.kube.reader import AuthenticationRefused, ReadError, read_cluster

    path = path or default_kubeconfig_path()
    try:
        cluster = load_local_cluster(path, context=context)
    except KubeconfigError as exc:
        raise InputError(str(exc)) from None
    except CredentialPluginError as exc:
        raise ClusterError(str(exc)) from None
    progress = _Progress(sys.stderr)
    try:
        return read_cluster(
            cluster.access,
            kinds=None,  # every kind: --kinds filters the report, references need the rest
            check_crd_instances=options.check_crd_instances,
            progress=progress,
        )
    except ReadError as exc:
        reason = exc.reason
        if isinstance(exc, AuthenticationRefused) and isinstance(
            exc.__cause__, CredentialPluginError
        ):
            reason = f"{reason}: {exc.__cause__}"
        raise ClusterError(
            cluster.redact(f"cannot read cluster {cluster.context!r}: {reason}")
        ) from None
    finally:
        progress.finish()


class _Progress:
    """'reading Pods… 12,345 objects (17/31 kinds)' rewritten in place, only on a terminal."""

    INTERVAL = 0.1

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self.enabled = _isatty(stream)
        self.shown = False
        self.last = 0.0

    def __call__(self, p: ReadProgress) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self.last < self.INTERVAL and p.done_kinds < p.total_kinds:
            return
        self.last = now
        line = (
            f"reading {_plural_kind(p.kind)}… {p.total_objects:,} objects "
            f"({p.done_kinds}/{p.total_kinds} kinds)"
        )
        width = shutil.get_terminal_size().columns
        self.stream.write("\r" + line[: max(width - 1, 1)] + "\x1b[K")
        self.stream.flush()
        self.shown = True

    def finish(self) -> None:
        if self.shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self.shown = False


def _plural_kind(kind: str) -> str:
    if kind.endswith(("s", "x")):
        return kind + "es"
    if kind.endswith("y") and kind[-2:-1] not in "aeiou":
        return kind[:-1] + "ies"
    return kind + "s"


def _isatty(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _use_color(stream: IO[str]) -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set (no-color.org) or TERM=dumb."""
    return _isatty(stream) and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"


def _write(stream: IO[str], text: str) -> None:
    try:
        stream.write(text)
        stream.flush()
    except BrokenPipeError:
        # The reader went away (`leftover scan … | head`): stop quietly, and keep Python's
        # final flush of stdout from failing too.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())


SCAN = Command(
    name="scan",
    summary="find and price what a cluster left behind",
    description=SCAN_DESCRIPTION,
    examples=SCAN_EXAMPLES,
    add_arguments=_add_scan_arguments,
    run=run_scan,
)

# --- operating the web app (app/ops.py) --------------------------------------------------------

from app import ops  # noqa: E402  (after Command: ops keeps its heavy imports inside functions)

OPS_COMMANDS = (
    Command(
        name="run",
        summary="everything on one machine: migrate, web, worker and beat (Ctrl-C stops)",
        description="Apply the migrations, then run the web server, a Celery worker and Celery "
        "beat as child processes until Ctrl-C.\nWithout LEFTOVER_DATABASE_URL and "
        "LEFTOVER_REDIS_URL it needs no server: a SQLite file and an embedded broker in "
        "LEFTOVER_DATA_DIR.",
        examples="examples:\n  leftover run\n  leftover run --port 8080",
        add_arguments=ops.add_run_arguments,
        run=ops.run_all,
    ),
    Command(
        name="serve",
        summary="run the web server",
        description="Serve the web app with uvicorn. Scans and mail run in workers.",
        examples="examples:\n  leftover serve --host 0.0.0.0 --port 8000 "
        "--forwarded-allow-ips 10.0.0.1",
        add_arguments=ops.add_serve_arguments,
        run=ops.run_serve,
    ),
    Command(
        name="worker",
        summary="run a Celery worker (queues default, mail, scans)",
        description="Run background jobs: discovery, scans, mail delivery and housekeeping. "
        "Start as many as you need.",
        examples="examples:\n  leftover worker --concurrency 4",
        add_arguments=ops.add_worker_arguments,
        run=ops.run_worker,
    ),
    Command(
        name="beat",
        summary="run the Celery scheduler for periodic jobs (run exactly one)",
        description="Send the periodic housekeeping jobs on schedule.",
        examples="examples:\n  leftover beat",
        add_arguments=ops.add_beat_arguments,
        run=ops.run_beat,
    ),
    Command(
        name="migrate",
        summary="apply the database migrations",
        description="Bring the database (LEFTOVER_DATABASE_URL, or the SQLite file in "
        "LEFTOVER_DATA_DIR) up to date.",
        examples="examples:\n  leftover migrate",
        add_arguments=ops.add_migrate_arguments,
        run=ops.run_migrate,
    ),
    Command(
        name="create-user",
        summary="create a user owning a new organisation",
        description="Create a user and their organisation. Prompts twice for the password, "
        "or reads one line from standard input with --password-stdin.",
        examples="examples:\n  leftover create-user --email ada@example.com --org 'Acme'\n"
        "  printf '%s\\n' \"$PASSWORD\" | leftover create-user --email ada@example.com "
        "--org Acme --password-stdin",
        add_arguments=ops.add_create_user_arguments,
        run=ops.run_create_user,
    ),
    Command(
        name="new-key",
        summary="print a new key for LEFTOVER_ENCRYPTION_KEYS",
        description="Print a random 256-bit key in the form LEFTOVER_ENCRYPTION_KEYS expects. "
        "To rotate, put it first in the list (newest first), keep the old ones after it, run "
        "`leftover rotate-keys`, then drop the old keys.",
        examples="examples:\n  leftover new-key",
        add_arguments=ops.add_no_arguments,
        run=ops.run_new_key,
    ),
    Command(
        name="rotate-keys",
        summary="re-encrypt stored credentials with the newest key",
        description="Re-encrypt every stored cloud credential with the first key of "
        "LEFTOVER_ENCRYPTION_KEYS. Values already encrypted with it are left alone, so it is "
        "safe to run twice.",
        examples="examples:\n  leftover rotate-keys",
        add_arguments=ops.add_no_arguments,
        run=ops.run_rotate_keys,
    ),
)

# --- the demo organisation (app/demo/seed.py) ---------------------------------------------------

DEMO_DESCRIPTION = """\
Seed a clearly labelled demo organisation, so every page has something to show before a real
cluster is connected: generated clusters on AWS, GCP and Azure whose findings come from the
engine, and a daily history in which waste appears and is cleaned up. Running it again replaces
the demo organisation and nothing else. Every user becomes its admin (or only the --member
ones). Demo clusters have no credentials and are never scanned."""

DEMO_EXAMPLES = """\
examples:
  leftover demo
  leftover demo --member ada@example.com --member bob@example.com
  # at scale, as the dashboard benchmark seeds it
  leftover demo --clusters 200 --days 365 --findings-per-cluster 2000"""


def _add_demo_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--clusters", type=int, default=12, metavar="N", help="generated clusters (default 12)"
    )
    p.add_argument("--days", type=int, default=90, metavar="D", help="days of history (default 90)")
    p.add_argument(
        "--seed", type=int, default=7, help="the same seed gives the same clusters (default 7)"
    )
    size = p.add_mutually_exclusive_group()
    size.add_argument(
        "--scale",
        type=int,
        metavar="K",
        help="cluster size (default 1: about 120 findings; each step adds about 50)",
    )
    size.add_argument(
        "--findings-per-cluster", type=int, metavar="N", help="the scale for about N findings"
    )
    p.add_argument(
        "--member",
        action="append",
        dest="members",
        metavar="EMAIL",
        help="make only this user an admin of the demo organisation (repeatable; default: "
        "every user)",
    )


def run_demo(args: argparse.Namespace) -> int:
    """Replace the demo organisation on the configured database; progress on stderr."""
    from app.demo.seed import DemoError, seed_configured

    try:
        report = seed_configured(
            ops.load_settings(),
            clusters=args.clusters,
            days=args.days,
            seed=args.seed,
            scale=args.scale,
            findings_per_cluster=args.findings_per_cluster,
            members=args.members,
            progress=lambda line: print(line, file=sys.stderr, flush=True),
        )
    except DemoError as exc:
        raise InputError(str(exc)) from None
    _write(sys.stdout, "\n".join(report.lines()) + "\n")
    return EXIT_OK


DEMO = Command(
    name="demo",
    summary="seed (or replace) the demo organisation with generated clusters and history",
    description=DEMO_DESCRIPTION,
    examples=DEMO_EXAMPLES,
    add_arguments=_add_demo_arguments,
    run=run_demo,
)

COMMANDS: tuple[Command, ...] = (SCAN, *OPS_COMMANDS, DEMO)


# --- the command -------------------------------------------------------------------------------

MAIN_DESCRIPTION = """\
Leftover finds unused and orphaned Kubernetes resources and estimates what they cost.
`leftover scan` reads one cluster (live, or a kubectl dump) and prints a report; `leftover run`
starts the web app with its worker and scheduler on this machine."""

MAIN_EPILOG = """\
examples:
  leftover scan --kubeconfig                       # the current kubectl context
  leftover scan --kubeconfig --context prod -o json
  kubectl get all,cm,secret,pvc,pv -A -o yaml | leftover scan --snapshot -

Run 'leftover <command> --help' for a command's options."""


def build_parser() -> argparse.ArgumentParser:
    """The ``leftover`` parser with one sub-parser per entry of ``COMMANDS``."""
    parser = _Parser(
        prog=PROG,
        description=MAIN_DESCRIPTION,
        epilog=MAIN_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", title="commands", metavar="<command>")
    for command in COMMANDS:
        cp = sub.add_parser(
            command.name,
            help=command.summary,
            description=command.description,
            epilog=command.examples,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        command.add_arguments(cp)
        cp.set_defaults(run=command.run)
    return parser


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("leftover")
    except PackageNotFoundError:
        return "unknown"


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``leftover``; returns the exit status (usage errors and --help included)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else EXIT_INPUT
    if getattr(args, "run", None) is None:
        parser.print_help(sys.stderr)
        return EXIT_INPUT
    try:
        status: int = args.run(args)
    except (InputError, ops.OpsInputError) as exc:
        return _fail(str(exc), EXIT_INPUT)
    except ClusterError as exc:
        return _fail(str(exc), EXIT_CLUSTER)
    except KeyboardInterrupt:
        return _fail("interrupted", EXIT_INTERRUPTED)
    return status


def _fail(message: str, status: int) -> int:
    print(f"{PROG}: error: {' '.join(message.split())}", file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
