"""Scan benchmark: a ~100k-object cluster served by the fake API server, scanned by the real CLI.

    python -m bench.scan [--namespaces 200] [--apps 29] [--runs 3]

Prints the objects, API requests, wall time and peak RSS of ``leftover scan``, and the same
for a *floor* measured in the same run: a process that fetches exactly the requests the scan
made (same URLs, same Accept headers, gzip) and decodes each response with msgspec into the
same structs — nothing else. The ratio scan/floor is the figure to watch; both run as fresh
processes so interpreter start-up and imports are counted on both sides.

Targets: ratio <= 1.5, peak RSS <= 400 MB, one paginated LIST per kind.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

TOKEN = "bench-token"  # noqa: S105 - the fake server's own test token


def _kubeconfig(url: str, ca_pem: bytes, path: Path) -> None:
    path.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [
                    {
                        "name": "bench",
                        "cluster": {
                            "server": url,
                            "certificate-authority-data": base64.b64encode(ca_pem).decode(),
                        },
                    }
                ],
                "users": [{"name": "bench", "user": {"token": TOKEN}}],
                "contexts": [{"name": "bench", "context": {"cluster": "bench", "user": "bench"}}],
                "current-context": "bench",
            }
        )
    )


def _run_measured(cmd: list[str]) -> tuple[float, int, bytes]:
    """Wall seconds, peak RSS (bytes) and stdout of one child, via wait4's own rusage."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if proc.returncode not in (0, 1):
            sys.exit(f"bench: {cmd[2]} failed ({proc.returncode}): {err.read().decode()[-2000:]}")
        return wall, usage.ru_maxrss * 1024, out.read()


def _serve(objects_file: Path, ca_file: Path, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    """Start the fake API server in its own process; return it and its URL."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.fakes.kube_api",
            "--objects",
            str(objects_file),
            "--token",
            TOKEN,
            "--ca-file",
            str(ca_file),
            "--log",
            str(log),
        ],
        stdout=subprocess.PIPE,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        sys.exit("bench: the fake API server did not start")
    return proc, str(json.loads(line)["url"])


def _requests_since(log: Path, offset: int) -> tuple[list[tuple[str, str]], int]:
    lines = log.read_text().splitlines()
    return [tuple(json.loads(x)) for x in lines[offset:]], len(lines)  # type: ignore[misc]


def main(argv: list[str] | None = None) -> None:
    """Build the cluster, serve it, and print scan-versus-floor figures."""
    parser = argparse.ArgumentParser(prog="python -m bench.scan")
    parser.add_argument("--namespaces", type=int, default=200)
    parser.add_argument("--apps", type=int, default=29, help="applications per namespace")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)

    leftover = str(Path(sys.executable).with_name("leftover"))
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        print(f"generating {args.namespaces} namespaces x {args.apps} applications …", flush=True)
        # Generated in a child process: the benchmark's own memory must stay small, or the
        # children it spawns would report its peak as theirs (vfork shares the address space).
        served = int(
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "bench.synthetic",
                    str(tmp / "objects.json"),
                    str(args.namespaces),
                    str(args.apps),
                ],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
        )
        log, ca_file = tmp / "requests.jsonl", tmp / "ca.pem"
        log.touch()
        server, url = _serve(tmp / "objects.json", ca_file, log)
        try:
            _kubeconfig(url, ca_file.read_bytes(), tmp / "kubeconfig")
            replay = tmp / "replay.json"
            scan_cmd = [leftover, "scan", "--kubeconfig", str(tmp / "kubeconfig"), "-o", "json"]
            floor_cmd = [sys.executable, "-m", "bench.floor", url, str(ca_file), TOKEN, str(replay)]
            scans, floors = [], []
            result: dict[str, Any] = {}
            requests: list[tuple[str, str]] = []
            offset = 0
            for _ in range(args.runs):
                wall, rss, out = _run_measured(scan_cmd)
                requests, offset = _requests_since(log, offset)
                result = json.loads(out)
                scans.append((wall, rss))
                replay.write_text(json.dumps(requests))
                floors.append(_run_measured(floor_cmd)[:2])
                replayed, offset = _requests_since(log, offset)
                assert len(replayed) == len(requests), "the floor made other requests"
        finally:
            server.terminate()
            server.wait()
    _report(served, requests, result, scans, floors)


def _report(
    served: int,
    requests: list[tuple[str, str]],
    result: dict[str, Any],
    scans: list[tuple[float, int]],
    floors: list[tuple[float, int]],
) -> None:
    lists = Counter(t.split("?")[0] for t, _ in requests if "limit=" in t)
    summary = result["summary"]
    assert isinstance(summary, dict)
    scan_wall = statistics.median(w for w, _ in scans)
    floor_wall = statistics.median(w for w, _ in floors)
    scan_rss = max(r for _, r in scans)
    floor_rss = max(r for _, r in floors)
    first_pages = sum(1 for t, _ in requests if "limit=" in t and "continue=" not in t)
    print(f"objects served        {served:>10,}")
    print(f"objects scanned       {summary['objects_scanned']:>10,}")
    print(f"findings              {summary['findings']:>10,}")
    print(
        f"API requests          {len(requests):>10,}  ({first_pages} LISTs, "
        f"{len(requests) - sum(lists.values())} discovery/other, "
        f"{sum(lists.values()) - first_pages} continuation pages)"
    )
    print(f"scan wall (median)    {scan_wall:>10.2f} s")
    print(f"floor wall (median)   {floor_wall:>10.2f} s")
    print(f"ratio scan/floor      {scan_wall / floor_wall:>10.2f}   (target <= 1.5)")
    print(f"scan peak RSS         {scan_rss / 2**20:>10.0f} MB  (target <= 400)")
    print(f"floor peak RSS        {floor_rss / 2**20:>10.0f} MB")
    starts = Counter(t.split("?")[0] for t, _ in requests if "limit=" in t and "continue=" not in t)
    again = sorted(p for p, n in starts.items() if n > 1 and not p.endswith("/secrets"))
    print(
        f"LIST sequences        {sum(starts.values()):>10}  over {len(starts)} paths; "
        f"restarted: {', '.join(again) or 'none'}"
    )


if __name__ == "__main__":
    main()
