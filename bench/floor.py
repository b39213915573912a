"""The floor for bench.scan: fetch the given requests and decode each response, nothing else.

    python -m bench.floor URL CA_FILE TOKEN REQUESTS_JSON

Same URLs and Accept headers as the scan, gzip, one keep-alive connection; each LIST page is
decoded with msgspec into the same struct the reader uses, other responses generically.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import msgspec
import urllib3

from app.kube.kinds import KINDS

_BY_PATH = {(k.group, k.plural): k for k in KINDS}


class _Page(msgspec.Struct):
    items: list[msgspec.Raw] = []


def _decoder_for(path: str) -> msgspec.json.Decoder[Any] | None:
    parts = path.strip("/").split("/")
    if parts[0] == "api" and len(parts) == 3:
        spec = _BY_PATH.get(("", parts[2]))
    elif parts[0] == "apis" and len(parts) == 4:
        spec = _BY_PATH.get((parts[1], parts[3]))
    else:
        spec = None
    if spec is None:
        return None
    page = msgspec.defstruct("Page", [("items", list[spec.struct], [])])  # type: ignore[name-defined]
    return msgspec.json.Decoder(page)


def main() -> None:
    url, ca_file, token, log = sys.argv[1:5]
    requests: list[tuple[str, str]] = json.loads(open(log).read())  # noqa: SIM115
    pool = urllib3.PoolManager(ca_certs=ca_file, retries=False)
    decoders: dict[str, msgspec.json.Decoder[Any] | None] = {}
    generic = msgspec.json.Decoder()
    objects = 0
    for target, accept in requests:
        path = target.split("?")[0]
        if path not in decoders:
            decoders[path] = _decoder_for(path)
        resp = pool.request(
            "GET",
            url + target,
            headers={
                "Authorization": f"Bearer {token}",
                "Accept": accept or "application/json",
                "Accept-Encoding": "gzip",
            },
            preload_content=True,
        )
        dec = decoders[path]
        if dec is None or resp.status != 200:
            generic.decode(resp.data)
        else:
            objects += len(dec.decode(resp.data).items)
    print(json.dumps({"objects": objects}))


if __name__ == "__main__":
    main()
