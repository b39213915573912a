"""The strict parser for uploaded kubeconfigs: a server, its CA and static credentials, no more.

An uploaded kubeconfig is a stranger's file (SECURITY.md item 3). Unlike
``app.kube.local_kubeconfig`` (the CLI's loader, which behaves like kubectl), this module does no
I/O at all: it never reads a file a path names, never runs a program, never connects anywhere.
It picks one context and reads only that context's cluster and user; every field there that it
does not understand is refused by name, so nothing in the file can change how Leftover connects
without the uploader being told. Other contexts, clusters and users are ignored and never kept.

Messages name the refused field by its path (``users[0].user.exec``) and say why, and never
repeat a value from the file: a token or key pasted in the wrong place must not come back out
in an error page or a log line.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import yaml
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from yaml.composer import Composer, ComposerError
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, Node, ScalarNode
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import Resolver
from yaml.scanner import Scanner

MAX_BYTES = 256 * 1024
# A kubeconfig nests five levels deep (users → entry → user → exec → env); extensions a few more.
_MAX_DEPTH = 32
_MAX_TOKEN_CHARS = 64 * 1024
# Leaves "kubeconfig:<server>" within the 512 characters of a cluster's external id.
_MAX_URL_CHARS = 500
_NAMES_SHOWN = 20

_TOP_LEVEL = frozenset(
    {
        "apiVersion",
        "kind",
        "clusters",
        "users",
        "contexts",
        "current-context",
        "preferences",
        "extensions",
    }
)
_CONTEXT_FIELDS = frozenset({"cluster", "user", "namespace", "extensions"})
# Read: server, certificate-authority-data, tls-server-name. Harmless and ignored: the rest.
_CLUSTER_FIELDS = frozenset(
    {
        "server",
        "certificate-authority-data",
        "tls-server-name",
        "insecure-skip-tls-verify",
        "disable-compression",
        "extensions",
    }
)
_USER_FIELDS = frozenset({"token", "client-certificate-data", "client-key-data", "extensions"})

_FILE_PATH = (
    "names a file on the machine that reads the kubeconfig, and Leftover never reads files an "
    "upload points at; embed the contents instead (`kubectl config view --raw --minify "
    "--flatten` writes them as *-data fields)"
)
_IMPERSONATION = (
    "asks the API server to let these credentials act as another user or group "
    "(impersonation); give the read-only service account's own token instead"
)
_CLUSTER_REFUSED: Mapping[str, str] = {
    "certificate-authority": _FILE_PATH,
    "proxy-url": (
        "would send the connection through a proxy that the file chooses; Leftover connects "
        "to uploaded clusters directly"
    ),
}
_USER_REFUSED: Mapping[str, str] = {
    "exec": (
        "runs a program to obtain a token (an exec credential plugin), and Leftover never runs "
        "programs from an uploaded kubeconfig; use a read-only service account's token instead"
    ),
    "auth-provider": (
        "uses an authentication provider plugin, which can run programs and read local files; "
        "use a read-only service account's token instead"
    ),
    "client-certificate": _FILE_PATH,
    "client-key": _FILE_PATH,
    "tokenFile": _FILE_PATH,
    "as": _IMPERSONATION,
    "as-uid": _IMPERSONATION,
    "as-groups": _IMPERSONATION,
    "as-user-extra": _IMPERSONATION,
    "username": (
        "is basic authentication (a username and password), which Kubernetes removed in 1.19 "
        "and which would hand Leftover a reusable password; use a service account's token"
    ),
    "password": (
        "is basic authentication (a username and password), which Kubernetes removed in 1.19 "
        "and which would hand Leftover a reusable password; use a service account's token"
    ),
}

_QUOTE = re.compile(r"['\"`]")
_PUNCTUATION = re.compile(r"'([\[\]{},:?|>-])'")
_HOST_NAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$")
_PRINTABLE = re.compile(r"^[\x21-\x7e]+$")
_FIELD_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,29}$")


@dataclass(frozen=True, repr=False)
class UploadedCluster:
    """What an uploaded kubeconfig's chosen context says about reaching its cluster."""

    server: str
    ca_data: bytes | None  # PEM certificates; None: the system trust store
    token: str | None
    client_cert_data: bytes | None  # PEM
    client_key_data: bytes | None  # PEM
    context: str
    cluster_name: str
    tls_server_name: str | None

    def __repr__(self) -> str:
        auth = [
            label
            for label, present in (
                ("token", self.token is not None),
                ("client_cert", self.client_cert_data is not None),
            )
            if present
        ]
        return (
            f"UploadedCluster(server={self.server!r}, context={self.context!r}, "
            f"cluster_name={self.cluster_name!r}, auth={'+'.join(auth) or 'none'}, "
            f"ca={'yes' if self.ca_data else 'system'}, tls_server_name={self.tls_server_name!r})"
        )


class KubeconfigRefused(ValueError):
    """The kubeconfig cannot be accepted; ``field`` is the dotted path of the culprit."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _refuse(path: str, why: str) -> KubeconfigRefused:
    return KubeconfigRefused(path, f"{path} {why}.")


# --- YAML -----------------------------------------------------------------------------------


class _StrictComposer(Composer):
    """Builds the node tree but refuses aliases and deep nesting (billion-laughs style bombs)."""

    _depth = 0

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        if self.check_event(AliasEvent):  # type: ignore[attr-defined]
            event = self.peek_event()  # type: ignore[attr-defined]
            raise ComposerError(
                None, None, "YAML aliases (*name) are not allowed in an upload", event.start_mark
            )
        self._depth += 1
        try:
            if self._depth > _MAX_DEPTH:
                event = self.peek_event()  # type: ignore[attr-defined]
                raise ComposerError(
                    None, None, f"nesting deeper than {_MAX_DEPTH} levels", event.start_mark
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


class _StrictConstructor(SafeConstructor):
    """Safe types only, and a mapping may not repeat a key (which one would win is unclear)."""

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Hashable, Any]:
        seen: set[str] = set()
        for key_node, _value in node.value:
            if isinstance(key_node, ScalarNode):
                if key_node.value in seen:
                    raise ConstructorError(
                        None, None, "a mapping repeats one of its keys", key_node.start_mark
                    )
                seen.add(key_node.value)
        return super().construct_mapping(node, deep=deep)

    def construct_object(self, node: Node, deep: bool = False) -> Any:
        # A tagged or typed scalar that its type refuses (`!!int zz`, a 13th month, an integer
        # of 5000 digits) raises plain Python errors; report them as YAML errors with a place.
        try:
            return super().construct_object(node, deep=deep)
        except yaml.YAMLError:
            raise
        except (ValueError, TypeError, KeyError, AttributeError, OverflowError):
            raise ConstructorError(
                None, None, "a value that is not valid for its type", node.start_mark
            ) from None


class _PyLoader(_StrictComposer, Reader, Scanner, Parser, _StrictConstructor, Resolver):
    def __init__(self, stream: str) -> None:
        Reader.__init__(self, stream)
        Scanner.__init__(self)
        Parser.__init__(self)
        _StrictComposer.__init__(self)
        _StrictConstructor.__init__(self)
        Resolver.__init__(self)


_Loader: type[Any] = _PyLoader
if getattr(yaml, "__with_libyaml__", False):
    from yaml._yaml import CParser

    class _CLoader(_StrictComposer, CParser, _StrictConstructor, Resolver):
        """libyaml scans and parses (fast, iterative); the strict composer above builds nodes."""

        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            _StrictComposer.__init__(self)
            _StrictConstructor.__init__(self)
            Resolver.__init__(self)

    _Loader = _CLoader


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """Where and what the YAML error is, with any quoted piece of the file cut out."""
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "a syntax error"
        # PyYAML quotes the offending text (a tag, a character): keep only the words before it,
        # except quoted YAML punctuation ("expected ',' or ']'"), which repeats nothing.
        problem = _PUNCTUATION.sub(r"\1", problem)
        cut = _QUOTE.split(problem, maxsplit=1)
        problem = (cut[0].rstrip() + " …" if len(cut) > 1 else problem)[:120]
        if mark is not None:
            return f"line {mark.line + 1}, column {mark.column + 1}: {problem}"
        return problem
    if isinstance(exc, yaml.reader.ReaderError):
        return f"character {exc.position + 1}: a control character that YAML does not allow"
    return "a syntax error"


def _load(text: str | bytes, max_bytes: int) -> dict[str, Any]:
    if len(text) > max_bytes:
        raise _too_large(max_bytes)
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise KubeconfigRefused("kubeconfig", "The kubeconfig is not UTF-8 text.") from None
    elif len(text.encode("utf-8", "surrogatepass")) > max_bytes:
        raise _too_large(max_bytes)
    if not text.strip():
        raise KubeconfigRefused("kubeconfig", "The kubeconfig is empty.")
    loader = None
    try:
        loader = _Loader(text)
        if loader.check_node():
            node = loader.get_node()
            if loader.check_node():
                raise KubeconfigRefused(
                    "kubeconfig",
                    "The kubeconfig holds more than one YAML document; upload exactly one.",
                )
            doc = loader.construct_document(node)
        else:
            doc = None
    except KubeconfigRefused:
        raise
    except yaml.YAMLError as exc:
        raise KubeconfigRefused(
            "kubeconfig", f"The kubeconfig is not valid YAML ({_yaml_problem(exc)})."
        ) from None
    except (ValueError, TypeError, KeyError, AttributeError, OverflowError, RecursionError):
        # Belt and braces: whatever else the YAML library raises is still the file's fault.
        raise KubeconfigRefused("kubeconfig", "The kubeconfig is not valid YAML.") from None
    finally:
        if loader is not None:
            loader.dispose()
    if not isinstance(doc, dict):
        raise KubeconfigRefused(
            "kubeconfig",
            "The kubeconfig is not a kubeconfig: it should be a YAML mapping with clusters, "
            "users and contexts.",
        )
    return doc


def _too_large(max_bytes: int) -> KubeconfigRefused:
    size = f"{max_bytes // 1024} KiB" if max_bytes >= 1024 else f"{max_bytes} bytes"
    return KubeconfigRefused(
        "kubeconfig",
        f"The kubeconfig is larger than {size}; upload only the context to scan "
        "(`kubectl config view --raw --minify --flatten`).",
    )


# --- structure ------------------------------------------------------------------------------


def _shown(key: object) -> str:
    """A field name from the file as it may appear in a message: short, one line."""
    text = str(key)
    text = "".join(ch if ch.isprintable() else "?" for ch in text)
    return text if len(text) <= 40 else text[:40] + "…"


def _mapping(value: object, path: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _refuse(path, "must be a mapping of fields")
    for key in value:
        if not isinstance(key, str):
            raise _refuse(path, "has a field name that is not text")
    return value


def _text(value: object, path: str) -> str:
    if not isinstance(value, str) or not value:
        raise _refuse(path, "must be a non-empty text value")
    return value


def _empty(value: object) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _check_fields(
    body: Mapping[str, Any], path: str, allowed: frozenset[str], refused: Mapping[str, str]
) -> None:
    for position, (key, value) in enumerate(body.items(), start=1):
        if key in refused:
            if not _empty(value):
                raise _refuse(f"{path}.{key}", refused[key])
        elif key not in allowed:
            # A mangled line can turn a credential into a key ("token abc…: "): only names that
            # look like field names are repeated; any other is pointed at by its position.
            name = key if _FIELD_NAME.match(key) else f"<field {position}>"
            known = ", ".join(sorted(allowed - {"extensions"}))
            raise KubeconfigRefused(
                f"{path}.{name}",
                f"{path}.{name} is not a field Leftover accepts in an uploaded "
                f"kubeconfig (it accepts only {known}); remove it.",
            )


def _entries(doc: Mapping[str, Any], section: str, body_key: str) -> dict[str, tuple[str, Any]]:
    """``name -> (path of the body, body)`` for one of clusters / users / contexts."""
    items = doc.get(section)
    if items is None:
        return {}
    if not isinstance(items, list):
        raise _refuse(section, "must be a list")
    found: dict[str, tuple[str, Any]] = {}
    for index, item in enumerate(items):
        path = f"{section}[{index}]"
        entry = _mapping(item, path)
        _check_fields(entry, path, frozenset({"name", body_key}), {})
        name = _text(entry.get("name"), f"{path}.name")
        if name in found:
            raise KubeconfigRefused(
                f"{path}.name",
                f"{path}.name repeats the name of an earlier entry in {section}; names must be "
                "unique so it is clear which one is meant.",
            )
        found[name] = (f"{path}.{body_key}", entry.get(body_key))
    return found


def _names(contexts: Mapping[str, object]) -> str:
    names = sorted(contexts)
    shown = ", ".join(_shown(n) for n in names[:_NAMES_SHOWN])
    return shown + (f" and {len(names) - _NAMES_SHOWN} more" if len(names) > _NAMES_SHOWN else "")


def _pick_context(
    doc: Mapping[str, Any], contexts: Mapping[str, tuple[str, Any]], wanted: str | None
) -> tuple[str, str, Any]:
    if not contexts:
        raise KubeconfigRefused(
            "contexts", "The kubeconfig has no contexts: it needs one naming a cluster and a user."
        )
    if wanted:
        if wanted not in contexts:
            raise KubeconfigRefused(
                "context",
                f"The kubeconfig has no context named {_shown(wanted)!r}; "
                f"its contexts are: {_names(contexts)}.",
            )
        return (wanted, *contexts[wanted])
    current = doc.get("current-context")
    if _empty(current):
        if len(contexts) == 1:
            name = next(iter(contexts))
            return (name, *contexts[name])
        raise KubeconfigRefused(
            "current-context",
            "The kubeconfig sets no current-context; name the context to use, one of: "
            f"{_names(contexts)}.",
        )
    current = _text(current, "current-context")
    if current not in contexts:
        raise KubeconfigRefused(
            "current-context",
            f"current-context names {_shown(current)!r}, which is not among the kubeconfig's "
            f"contexts ({_names(contexts)}).",
        )
    return (current, *contexts[current])


# --- values ---------------------------------------------------------------------------------


def _server(value: object, path: str) -> str:
    server = _text(value, path)
    if len(server) > _MAX_URL_CHARS or not _PRINTABLE.match(server):
        raise _refuse(
            path, f"must be one https:// URL without spaces, at most {_MAX_URL_CHARS} characters"
        )
    try:
        parts = urlsplit(server)
    except ValueError:  # an unclosed IPv6 bracket
        raise _refuse(path, "is not a valid URL") from None
    if parts.scheme.lower() == "http":
        raise _refuse(
            path,
            "uses http://, which would send the credentials unencrypted and unverified; "
            "Leftover connects to API servers over https:// only",
        )
    if parts.scheme.lower() != "https":
        raise _refuse(path, "must be an https:// URL")
    if parts.username is not None or parts.password is not None:
        raise _refuse(path, "must not contain a user name or password (user@host)")
    if parts.query or parts.fragment or server.endswith(("?", "#")):
        raise _refuse(path, "must not have a query (?…) or fragment (#…)")
    if not parts.hostname:
        raise _refuse(path, "has no host name")
    if "%" in parts.netloc:
        raise _refuse(path, "must not contain %-escapes or an IPv6 zone in its host")
    try:
        _ = parts.port
    except ValueError:
        raise _refuse(path, "has an invalid port") from None
    return server.rstrip("/")


def _base64(value: object, path: str) -> bytes:
    if not isinstance(value, str) or not value.strip():
        raise _refuse(path, "must be base64 text")
    try:
        return base64.b64decode("".join(value.split()), validate=True)
    except (binascii.Error, ValueError):
        raise _refuse(path, "is not valid base64") from None


def _certificates(value: object, path: str) -> bytes:
    """Base64 of PEM certificates → the certificates re-encoded as PEM (nothing else kept)."""
    data = _base64(value, path)
    try:
        certs = x509.load_pem_x509_certificates(data)
        for cert in certs:
            cert.public_key()  # parsed lazily: a broken key would surface only at connect time
    except (ValueError, UnsupportedAlgorithm):
        raise _refuse(
            path, "does not decode to a PEM certificate (-----BEGIN CERTIFICATE-----)"
        ) from None
    return b"".join(cert.public_bytes(serialization.Encoding.PEM) for cert in certs)


def _private_key(value: object, path: str, cert_pem: bytes, cert_path: str) -> bytes:
    data = _base64(value, path)
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except TypeError:
        raise _refuse(
            path, "is encrypted with a passphrase; upload the key without a passphrase"
        ) from None
    except (ValueError, UnsupportedAlgorithm):
        raise _refuse(path, "does not decode to a PEM private key") from None
    leaf = x509.load_pem_x509_certificates(cert_pem)[0]
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    der = serialization.Encoding.DER
    if leaf.public_key().public_bytes(der, spki) != key.public_key().public_bytes(der, spki):
        raise _refuse(path, f"does not belong to the certificate in {cert_path}")
    # Re-encoded: only the key itself is kept, as plain ASCII PEM.
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _token(value: object, path: str) -> str:
    if not isinstance(value, str) or not value:
        raise _refuse(path, "must be a non-empty text value")
    token = value.strip()
    if len(token) > _MAX_TOKEN_CHARS or not _PRINTABLE.match(token):
        raise _refuse(path, "must be one line of printable ASCII characters without spaces")
    return token


def _tls_server_name(value: object, path: str) -> str:
    name = _text(value, path)
    if not _HOST_NAME.match(name):
        raise _refuse(path, "must be a host name")
    return name


# --- the parser -----------------------------------------------------------------------------


def parse_kubeconfig(
    text: str | bytes,
    *,
    context: str | None = None,
    max_bytes: int = MAX_BYTES,
    allow_exec_for_token_replacement: bool = False,
) -> UploadedCluster:
    """Read one context of an uploaded kubeconfig, refusing anything that reads, runs or hides.

    Only embedded data is accepted (server, CA, token, client certificate and key), so the
    result depends on the text alone. ``allow_exec_for_token_replacement`` lets an ``exec``
    user through without running or reading it, for callers that mint the token themselves
    (AKS clusters with Entra ID); such a user contributes no credentials.
    """
    doc = _load(text, max_bytes)
    _check_fields(doc, "kubeconfig", _TOP_LEVEL, {})
    if doc.get("kind") not in (None, "Config"):
        raise _refuse("kind", "must be Config")
    if doc.get("apiVersion") not in (None, "v1"):
        raise _refuse("apiVersion", "must be v1")
    clusters = _entries(doc, "clusters", "cluster")
    users = _entries(doc, "users", "user")
    contexts = _entries(doc, "contexts", "context")
    name, context_path, context_body = _pick_context(doc, contexts, context)
    ctx = _mapping(context_body, context_path)
    _check_fields(ctx, context_path, _CONTEXT_FIELDS, {})

    cluster_ref = _text(ctx.get("cluster"), f"{context_path}.cluster")
    if cluster_ref not in clusters:
        raise _refuse(f"{context_path}.cluster", "names a cluster that is not in clusters")
    cluster_path, cluster_body = clusters[cluster_ref]
    cluster = _mapping(cluster_body, cluster_path)
    _check_fields(cluster, cluster_path, _CLUSTER_FIELDS, _CLUSTER_REFUSED)
    insecure = cluster.get("insecure-skip-tls-verify")
    if insecure is True:
        raise _refuse(
            f"{cluster_path}.insecure-skip-tls-verify",
            "turns off TLS verification, so anyone on the network path could read the "
            "credentials; give the cluster's CA as certificate-authority-data instead",
        )
    if insecure not in (None, False):
        raise _refuse(f"{cluster_path}.insecure-skip-tls-verify", "must be true or false")
    if "server" not in cluster:
        raise _refuse(f"{cluster_path}.server", "is missing: the API server's https:// URL")
    server = _server(cluster["server"], f"{cluster_path}.server")
    ca_data = None
    if "certificate-authority-data" in cluster:
        ca_data = _certificates(
            cluster["certificate-authority-data"], f"{cluster_path}.certificate-authority-data"
        )
    tls_server_name = None
    if not _empty(cluster.get("tls-server-name")):
        tls_server_name = _tls_server_name(
            cluster["tls-server-name"], f"{cluster_path}.tls-server-name"
        )

    token: str | None = None
    cert: bytes | None = None
    key: bytes | None = None
    user_path = f"{context_path}.user"
    user_ref = ctx.get("user")
    if not _empty(user_ref):
        user_ref = _text(user_ref, user_path)
        if user_ref not in users:
            raise _refuse(user_path, "names a user that is not in users")
        user_path, user_body = users[user_ref]
        user = _mapping(user_body, user_path)
        refused = dict(_USER_REFUSED)
        if allow_exec_for_token_replacement:
            del refused["exec"]
        _check_fields(
            user,
            user_path,
            _USER_FIELDS | ({"exec"} if allow_exec_for_token_replacement else set()),
            refused,
        )
        token, cert, key = _credentials(user, user_path)
    if token is None and cert is None and not allow_exec_for_token_replacement:
        raise _refuse(
            user_path,
            "holds no credentials Leftover can use: give a token, or client-certificate-data "
            "and client-key-data",
        )
    return UploadedCluster(
        server=server,
        ca_data=ca_data,
        token=token,
        client_cert_data=cert,
        client_key_data=key,
        context=name,
        cluster_name=cluster_ref,
        tls_server_name=tls_server_name,
    )


def _credentials(
    user: Mapping[str, Any], path: str
) -> tuple[str | None, bytes | None, bytes | None]:
    """The static credentials of one user entry (an ``exec`` there adds nothing)."""
    token = None
    if not _empty(user.get("token")):
        token = _token(user["token"], f"{path}.token")
    has_cert = not _empty(user.get("client-certificate-data"))
    has_key = not _empty(user.get("client-key-data"))
    if has_cert != has_key:
        missing = "client-key-data" if has_cert else "client-certificate-data"
        raise _refuse(f"{path}.{missing}", "is missing: a client certificate needs its key")
    if not has_cert:
        return token, None, None
    cert_path = f"{path}.client-certificate-data"
    cert = _certificates(user["client-certificate-data"], cert_path)
    key = _private_key(user["client-key-data"], f"{path}.client-key-data", cert, cert_path)
    return token, cert, key
