"""The user's own kubeconfig, resolved the way kubectl does: for the ``leftover scan`` CLI only.

This module runs on the user's machine against the user's own configuration, so it does what
kubectl does: follows file paths, honours ``insecure-skip-tls-verify`` and EXECUTES credential
plugins (``exec``, e.g. ``aws eks get-token``). That is why only ``app.cli`` may import it: the
web app and the workers never call it, and an uploaded kubeconfig goes through the strict parser
in ``app.kube.kubeconfig`` instead (SECURITY.md item 3).

The official client's loader resolves the context; its ``Configuration`` is then turned into a
``ClusterAccess`` (files read into bytes, the bearer token taken out, a refreshing
``token_provider`` when the credential can expire). Every message this module produces is
redacted of the credentials the file holds.
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from kubernetes.client import Configuration
from kubernetes.config.config_exception import ConfigException
from kubernetes.config.kube_config import load_kube_config

from app.kube.access import ClusterAccess

# Keys whose values are credentials, wherever they appear under ``users``.
_SECRET_KEYS = frozenset(
    {
        "token",
        "password",
        "client-key-data",
        "id-token",
        "refresh-token",
        "access-token",
        "client-secret",
        "value",  # exec env values: AWS_SECRET_ACCESS_KEY and friends
    }
)
_REDACTED = "[redacted]"
_MIN_SECRET_LEN = 4


class KubeconfigError(Exception):
    """The kubeconfig cannot be used: missing file, bad YAML, unknown context, unsupported field."""


class CredentialPluginError(Exception):
    """The kubeconfig's credential plugin (``exec``) failed; the message says why."""


def default_kubeconfig_path() -> str:
    """Where kubectl looks when no path is given: ``$KUBECONFIG``, else ``~/.kube/config``."""
    return os.environ.get("KUBECONFIG") or str(Path("~/.kube/config"))


@dataclass
class Redactor:
    """Removes every credential seen so far from text meant for a terminal."""

    secrets: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, secret: str | None) -> None:
        if secret and len(secret) >= _MIN_SECRET_LEN:
            with self._lock:
                self.secrets.add(secret)

    def __call__(self, text: str) -> str:
        with self._lock:
            secrets = sorted(self.secrets, key=len, reverse=True)
        for secret in secrets:
            text = text.replace(secret, _REDACTED)
        return text


@dataclass(frozen=True)
class LocalCluster:
    """A resolved context: how to reach it, its name, and a redactor for its credentials."""

    access: ClusterAccess
    context: str
    redact: Redactor


def load_local_cluster(path: str, *, context: str | None = None) -> LocalCluster:
    """Resolve ``context`` (else the current context) of the kubeconfig at ``path`` like kubectl.

    ``path`` may list several files separated by ``os.pathsep``, as ``$KUBECONFIG`` does.
    Raises KubeconfigError for a file or context problem and CredentialPluginError when the
    credential plugin fails.
    """
    redact = Redactor()
    files = _existing_files(path)
    documents = [_parse(file, redact) for file in files]
    context_name = _context_name(documents, context, path)
    cfg = Configuration()
    with (
        tempfile.TemporaryDirectory(prefix="leftover-kubeconfig-") as tmp,
        _captured_logs() as logs,
    ):
        try:
            load_kube_config(  # type: ignore[no-untyped-call]
                config_file=os.pathsep.join(str(f) for f in files),
                context=context_name,
                client_configuration=cfg,
                persist_config=False,
                temp_file_path=tmp,
            )
        except (ConfigException, ValueError, TypeError, KeyError, AttributeError) as exc:
            raise KubeconfigError(
                redact(f"{path}: context {context_name!r} is not usable: {_one_line(exc)}")
            ) from None
        except OSError as exc:
            raise KubeconfigError(redact(f"{path}: {_os_problem(exc)}")) from None
        token = _bearer_token(cfg, path)
        redact.add(token)
        if token is None and cfg.cert_file is None and logs:
            raise CredentialPluginError(
                redact(f"the credential plugin for context {context_name!r} failed: {logs[-1]}")
            )
        if getattr(cfg, "proxy", None):
            raise KubeconfigError(
                f"{path}: context {context_name!r} uses proxy-url, which leftover scan does not "
                "support; run it from a machine that reaches the API server directly"
            )
        ca_data = _read_file(cfg.ssl_ca_cert, path, redact)
        cert_data = _read_file(cfg.cert_file, path, redact)
        key_data = _read_file(cfg.key_file, path, redact)
    if key_data is not None:
        redact.add(key_data.decode("utf-8", errors="replace").strip())
    provider = _token_provider(cfg, token, redact) if token is not None else None
    try:
        access = ClusterAccess(
            server=cfg.host,
            ca_data=ca_data,
            token=token,
            token_provider=provider,
            client_cert_data=cert_data,
            client_key_data=key_data,
            insecure_skip_tls_verify=not cfg.verify_ssl,
            tls_server_name=cfg.tls_server_name or None,
            allow_private_endpoints=True,
            name=context_name,
        )
    except ValueError as exc:
        raise KubeconfigError(redact(f"{path}: context {context_name!r}: {exc}")) from None
    return LocalCluster(access=access, context=context_name, redact=redact)


def _existing_files(path: str) -> list[Path]:
    parts = [Path(p).expanduser() for p in path.split(os.pathsep) if p]
    found = [p for p in parts if p.exists()]
    if not found:
        raise KubeconfigError(f"{path}: no such file")
    return found


def _parse(file: Path, redact: Redactor) -> dict[str, Any]:
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        problem = _os_problem(exc) if isinstance(exc, OSError) else "not UTF-8 text"
        raise KubeconfigError(f"{file}: {problem}") from None
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        # The YAML error's own text quotes the offending line, which may hold a token.
        raise KubeconfigError(f"{file}: not valid YAML ({_yaml_where(exc)})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("contexts"), list):
        raise KubeconfigError(f"{file}: not a kubeconfig (no list of contexts)")
    for entry in doc.get("users") or []:
        _collect_secrets(entry.get("user") if isinstance(entry, dict) else None, redact)
    return doc


def _collect_secrets(node: Any, redact: Redactor) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in _SECRET_KEYS and isinstance(value, str):
                redact.add(value)
            else:
                _collect_secrets(value, redact)
    elif isinstance(node, list):
        for item in node:
            _collect_secrets(item, redact)


def _yaml_where(exc: yaml.YAMLError) -> str:
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem_mark is not None:
        mark = exc.problem_mark
        return f"line {mark.line + 1}, column {mark.column + 1}: {exc.problem}"
    return type(exc).__name__


def _context_name(documents: list[dict[str, Any]], wanted: str | None, path: str) -> str:
    names: list[str] = []
    current: str | None = None
    for doc in documents:
        for entry in doc["contexts"]:
            if isinstance(entry, dict) and isinstance(entry.get("name"), str):
                names.append(entry["name"])
        if isinstance(doc.get("current-context"), str) and doc["current-context"]:
            current = doc["current-context"]
    known = ", ".join(dict.fromkeys(names)) or "none"
    name = wanted or current
    if name is None:
        raise KubeconfigError(
            f"{path}: no current-context is set; pass --context (contexts: {known})"
        )
    if name not in names:
        raise KubeconfigError(f"{path}: no context named {name!r} (contexts: {known})")
    return name


def _bearer_token(cfg: Any, path: str) -> str | None:
    value = cfg.api_key.get("BearerToken") or cfg.api_key.get("authorization")
    if not value:
        return None
    scheme, _, token = str(value).partition(" ")
    if scheme.lower() != "bearer":
        raise KubeconfigError(
            f"{path}: username/password authentication is not supported; "
            "use a token, a client certificate or a credential plugin"
        )
    return token.strip() or None


def _token_provider(cfg: Any, token: str, redact: Redactor) -> Callable[[], str]:
    """A token source that asks the loader to refresh an expiring credential (exec, OIDC)."""
    lock = threading.Lock()

    def provide() -> str:
        hook = cfg.refresh_api_key_hook
        with lock:
            if hook is not None:
                with _captured_logs() as logs:
                    hook(cfg)
                if logs:
                    raise CredentialPluginError(
                        redact(f"refreshing the credential failed: {logs[-1]}")
                    )
            current = _bearer_token(cfg, "kubeconfig") or token
        redact.add(current)
        return current

    return provide


def _read_file(name: str | None, path: str, redact: Redactor) -> bytes | None:
    if not name:
        return None
    try:
        return Path(name).read_bytes()
    except OSError as exc:
        raise KubeconfigError(redact(f"{path}: {_os_problem(exc)}")) from None


def _os_problem(exc: OSError) -> str:
    where = f"{exc.filename}: " if exc.filename else ""
    return f"{where}{(exc.strerror or type(exc).__name__).lower()}"


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


class _ListHandler(logging.Handler):
    def __init__(self, sink: list[str]) -> None:
        super().__init__(level=logging.ERROR)
        self.sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        if record.name == "root" or record.name.startswith("kubernetes"):
            self.sink.append(" ".join(record.getMessage().split()))


@contextmanager
def _captured_logs() -> Iterator[list[str]]:
    """Collect what the loader logs instead of raising (a failed ``exec`` plugin is logged).

    The handler sits on the root logger because the loader calls ``logging.error`` directly;
    having a handler there also stops that call from configuring logging for the process.
    """
    sink: list[str] = []
    handler = _ListHandler(sink)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield sink
    finally:
        root.removeHandler(handler)
