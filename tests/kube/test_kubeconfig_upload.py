"""The strict parser for uploaded kubeconfigs: what it accepts, what it refuses, and why.

Accepted configs are proven usable by reading the fake API server over real HTTPS with what
the parser returned; refused ones must name the field and never repeat a secret.
"""

from __future__ import annotations

import base64
import copy
import random
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
import trustme
import yaml

from app.kube.access import ClusterAccess
from app.kube.kubeconfig import KubeconfigRefused, UploadedCluster, parse_kubeconfig
from app.kube.reader import read_cluster
from tests.fakes.kube_api import FakeKubeAPI
from tests.kube.conftest import FAST_RETRY

SECRET_TOKEN = "s3cr3t-upload-token-do-not-leak"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def client_pair(ca: trustme.CA) -> tuple[bytes, bytes]:
    leaf = ca.issue_cert("leftover-reader")
    return leaf.cert_chain_pems[0].bytes(), leaf.private_key_pem.bytes()


def config(
    server: str = "https://kube.example.com:6443",
    *,
    ca_pem: bytes | None = None,
    user: dict[str, Any] | None = None,
    cluster_extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A one-context kubeconfig as a dict; tests edit it before dumping."""
    cluster: dict[str, Any] = {"server": server}
    if ca_pem is not None:
        cluster["certificate-authority-data"] = b64(ca_pem)
    cluster.update(cluster_extra or {})
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "prod", "cluster": cluster}],
        "users": [{"name": "reader", "user": {"token": SECRET_TOKEN} if user is None else user}],
        "contexts": [{"name": "prod-ctx", "context": {"cluster": "prod", "user": "reader"}}],
        "current-context": "prod-ctx",
        "preferences": {},
    }


def dump(doc: dict[str, Any]) -> str:
    return yaml.safe_dump(doc, sort_keys=False)


def refused(text: str | bytes, **options: Any) -> KubeconfigRefused:
    with pytest.raises(KubeconfigRefused) as info:
        parse_kubeconfig(text, **options)
    exc = info.value
    for shown in (str(exc), repr(exc), exc.message):
        assert SECRET_TOKEN not in shown
    return exc


# --- accepted ------------------------------------------------------------------------------


@pytest.fixture
def token_api() -> Iterator[FakeKubeAPI]:
    node = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"}}
    with FakeKubeAPI([node], token=SECRET_TOKEN) as api:
        yield api


def _access(parsed: UploadedCluster) -> ClusterAccess:
    return ClusterAccess(
        server=parsed.server,
        ca_data=parsed.ca_data,
        token=parsed.token,
        client_cert_data=parsed.client_cert_data,
        client_key_data=parsed.client_key_data,
        tls_server_name=parsed.tls_server_name,
        name=parsed.cluster_name,
    )


def test_token_config_is_parsed_and_reads_the_cluster(token_api: FakeKubeAPI) -> None:
    parsed = parse_kubeconfig(dump(config(token_api.url + "/", ca_pem=token_api.ca_pem)))

    assert parsed.server == token_api.url  # a trailing slash does not make a second cluster
    assert parsed.token == SECRET_TOKEN
    assert parsed.ca_data == token_api.ca_pem
    assert (parsed.client_cert_data, parsed.client_key_data) == (None, None)
    assert (parsed.context, parsed.cluster_name, parsed.tls_server_name) == (
        "prod-ctx",
        "prod",
        None,
    )
    snap = read_cluster(_access(parsed), kinds=["Node"], retry=FAST_RETRY)
    assert [n.metadata.name for n in snap.nodes] == ["n1"]
    assert token_api.requests[0].headers["authorization"] == f"Bearer {SECRET_TOKEN}"


def test_client_certificate_config_authenticates_over_tls() -> None:
    with FakeKubeAPI([], token="not-sent", client_cert_auth=True) as api:
        cert, key = api.client_cert()
        user = {"client-certificate-data": b64(cert), "client-key-data": b64(key)}
        parsed = parse_kubeconfig(dump(config(api.url, ca_pem=api.ca_pem, user=user)))

        assert parsed.token is None
        assert parsed.client_cert_data == cert
        assert parsed.client_key_data is not None
        assert parsed.client_key_data.startswith(b"-----BEGIN PRIVATE KEY-----")
        snap = read_cluster(_access(parsed), kinds=["Namespace"], retry=FAST_RETRY)
        assert snap.cluster.version == "v1.30.2"
        assert all("authorization" not in r.headers for r in api.requests)


def test_repr_shows_no_credential(client_pair: tuple[bytes, bytes]) -> None:
    cert, key = client_pair
    user = {
        "token": SECRET_TOKEN,
        "client-certificate-data": b64(cert),
        "client-key-data": b64(key),
    }
    parsed = parse_kubeconfig(dump(config(user=user)))

    shown = repr(parsed) + str(parsed)
    assert SECRET_TOKEN not in shown
    assert "PRIVATE KEY" not in shown
    assert "CERTIFICATE" not in shown
    assert "auth=token+client_cert" in shown


def test_bytes_with_a_bom_and_tls_server_name_are_accepted(ca: trustme.CA) -> None:
    doc = config(ca_pem=ca.cert_pem.bytes(), cluster_extra={"tls-server-name": "api.internal"})
    doc["clusters"][0]["cluster"]["insecure-skip-tls-verify"] = False
    doc["clusters"][0]["cluster"]["extensions"] = [{"name": "x", "extension": {"a": 1}}]

    parsed = parse_kubeconfig(b"\xef\xbb\xbf" + dump(doc).encode())

    assert parsed.tls_server_name == "api.internal"
    assert parsed.ca_data == ca.cert_pem.bytes()


def test_json_kubeconfig_is_yaml_too() -> None:
    import json

    assert parse_kubeconfig(json.dumps(config())).token == SECRET_TOKEN


# --- context selection ---------------------------------------------------------------------


def _two_contexts() -> dict[str, Any]:
    doc = config()
    doc["clusters"].append({"name": "staging", "cluster": {"server": "https://staging.test"}})
    doc["users"].append({"name": "exec-user", "user": {"exec": {"command": "aws"}}})
    doc["contexts"].append(
        {"name": "staging-ctx", "context": {"cluster": "staging", "user": "reader"}}
    )
    doc["contexts"].append(
        {"name": "eks-ctx", "context": {"cluster": "staging", "user": "exec-user"}}
    )
    return doc


def test_current_context_is_used_and_context_overrides_it() -> None:
    text = dump(_two_contexts())

    assert parse_kubeconfig(text).server == "https://kube.example.com:6443"
    chosen = parse_kubeconfig(text, context="staging-ctx")
    assert (chosen.server, chosen.context, chosen.cluster_name) == (
        "https://staging.test",
        "staging-ctx",
        "staging",
    )


def test_other_contexts_users_are_not_read() -> None:
    # The exec user belongs to another context: it is neither run nor refused.
    assert parse_kubeconfig(dump(_two_contexts())).token == SECRET_TOKEN
    exc = refused(dump(_two_contexts()), context="eks-ctx")
    assert exc.field == "users[1].user.exec"


def test_unknown_context_lists_the_available_ones() -> None:
    exc = refused(dump(_two_contexts()), context="nope")

    assert exc.field == "context"
    assert "no context named 'nope'" in exc.message
    assert "eks-ctx, prod-ctx, staging-ctx" in exc.message


def test_missing_current_context_lists_the_contexts() -> None:
    doc = _two_contexts()
    del doc["current-context"]

    exc = refused(dump(doc))

    assert exc.field == "current-context"
    assert "sets no current-context" in exc.message
    assert "prod-ctx" in exc.message


def test_missing_current_context_with_one_context_uses_it() -> None:
    doc = config()
    doc["current-context"] = ""

    assert parse_kubeconfig(dump(doc)).context == "prod-ctx"


def test_current_context_naming_nothing_is_refused() -> None:
    doc = config()
    doc["current-context"] = "gone"

    exc = refused(dump(doc))

    assert exc.field == "current-context"
    assert "'gone'" in exc.message
    assert "prod-ctx" in exc.message


@pytest.mark.parametrize(
    ("edit", "field", "words"),
    [
        (lambda d: d.update(contexts=[]), "contexts", "no contexts"),
        (
            lambda d: d["contexts"][0]["context"].update(cluster="other"),
            "contexts[0].context.cluster",
            "names a cluster that is not in clusters",
        ),
        (
            lambda d: d["contexts"][0]["context"].update(user="other"),
            "contexts[0].context.user",
            "names a user that is not in users",
        ),
        (
            lambda d: d["users"].append(copy.deepcopy(d["users"][0])),
            "users[1].name",
            "repeats the name",
        ),
        (lambda d: d["clusters"][0].pop("name"), "clusters[0].name", "non-empty text"),
        (lambda d: d.update(users={"reader": {}}), "users", "must be a list"),
        (lambda d: d.update(kind="Pod"), "kind", "must be Config"),
    ],
)
def test_broken_structure_names_the_field(edit: Any, field: str, words: str) -> None:
    doc = config()
    edit(doc)

    exc = refused(dump(doc))

    assert exc.field == field
    assert field in exc.message
    assert words in exc.message


# --- refused fields ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value", "why"),
    [
        ("exec", {"command": "aws", "args": ["eks", "get-token"]}, "runs a program"),
        ("auth-provider", {"name": "gcp", "config": {"cmd-path": "gcloud"}}, "plugin"),
        ("client-certificate", "/etc/ssl/client.crt", "names a file"),
        ("client-key", "/etc/ssl/client.key", "names a file"),
        ("tokenFile", "/var/run/secrets/token", "names a file"),
        ("as", "system:admin", "impersonation"),
        ("as-uid", "0", "impersonation"),
        ("as-groups", ["system:masters"], "impersonation"),
        ("as-user-extra", {"scopes": ["all"]}, "impersonation"),
        ("username", "admin", "basic authentication"),
        ("password", "hunter2", "basic authentication"),
    ],
)
def test_refused_user_fields_are_named_with_the_reason(name: str, value: Any, why: str) -> None:
    exc = refused(dump(config(user={"token": SECRET_TOKEN, name: value})))

    assert exc.field == f"users[0].user.{name}"
    assert exc.message.startswith(f"users[0].user.{name} ")
    assert why in exc.message
    assert "hunter2" not in exc.message
    assert "/etc/ssl" not in exc.message


@pytest.mark.parametrize(
    ("name", "value", "why"),
    [
        ("certificate-authority", "/etc/kubernetes/pki/ca.crt", "names a file"),
        ("proxy-url", "http://proxy.internal:3128", "proxy"),
        ("insecure-skip-tls-verify", True, "turns off TLS verification"),
        ("insecure-skip-tls-verify", "yes please", "must be true or false"),
    ],
)
def test_refused_cluster_fields_are_named_with_the_reason(name: str, value: Any, why: str) -> None:
    exc = refused(dump(config(cluster_extra={name: value})))

    assert exc.field == f"clusters[0].cluster.{name}"
    assert why in exc.message
    assert "/etc/kubernetes" not in exc.message
    assert "proxy.internal" not in exc.message


@pytest.mark.parametrize(
    ("where", "field"),
    [
        (lambda d: d["users"][0]["user"], "users[0].user.secret-sauce"),
        (lambda d: d["clusters"][0]["cluster"], "clusters[0].cluster.secret-sauce"),
        (lambda d: d["contexts"][0]["context"], "contexts[0].context.secret-sauce"),
        (lambda d: d["users"][0], "users[0].secret-sauce"),
        (lambda d: d, "kubeconfig.secret-sauce"),
    ],
)
def test_unknown_fields_are_refused(where: Any, field: str) -> None:
    doc = config()
    where(doc)["secret-sauce"] = SECRET_TOKEN

    exc = refused(dump(doc))

    assert exc.field == field
    assert "is not a field Leftover accepts" in exc.message


def test_an_unknown_field_that_may_be_a_credential_is_not_repeated() -> None:
    # "token s3cr3t…:" (a mangled line) reads as a field name; it is named by position.
    text = dump(config()).replace(f"token: {SECRET_TOKEN}", f"token {SECRET_TOKEN}: x")

    exc = refused(text)

    assert exc.field == "users[0].user.<field 1>"
    assert "<field 1> is not a field Leftover accepts" in exc.message


def test_empty_refused_fields_are_harmless() -> None:
    user = {"token": SECRET_TOKEN, "tokenFile": "", "as-groups": [], "exec": None}

    assert parse_kubeconfig(dump(config(user=user))).token == SECRET_TOKEN


def test_exec_user_may_be_ignored_for_token_replacement() -> None:
    aks = {"exec": {"command": "kubelogin", "args": ["get-token", "--server-id", "6dae42f8"]}}

    parsed = parse_kubeconfig(dump(config(user=aks)), allow_exec_for_token_replacement=True)

    assert (parsed.token, parsed.client_cert_data, parsed.client_key_data) == (None, None, None)
    assert parsed.server == "https://kube.example.com:6443"
    # Allowing exec allows nothing else.
    exc = refused(
        dump(config(user={**aks, "auth-provider": {"name": "azure"}})),
        allow_exec_for_token_replacement=True,
    )
    assert exc.field == "users[0].user.auth-provider"


def test_a_user_without_credentials_is_refused() -> None:
    exc = refused(dump(config(user={})))

    assert exc.field == "users[0].user"
    assert "no credentials" in exc.message

    doc = config()
    del doc["contexts"][0]["context"]["user"]
    assert refused(dump(doc)).field == "contexts[0].context.user"


# --- the server URL ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("server", "words"),
    [
        ("http://kube.example.com", "uses http://"),
        ("ftp://kube.example.com", "must be an https:// URL"),
        ("kube.example.com:6443", "must be an https:// URL"),
        ("https://admin:pw@kube.example.com", "user name or password"),
        ("https://kube.example.com/?x=1", "query"),
        ("https://kube.example.com/#frag", "fragment"),
        ("https://kube.example.com?", "query"),
        ("https://:6443", "no host name"),
        ("https://kube.example.com:99999", "invalid port"),
        ("https://kube.example.com:http", "invalid port"),
        ("https://kube example.com", "without spaces"),
        ("https://[fe80::1%25eth0]:6443", "zone"),
        ("https://[2001:db8::1:6443", "is not a valid URL"),
        ("https://kube.example.com/" + "a" * 500, "at most 500"),
        (6443, "non-empty text"),
    ],
)
def test_bad_servers_are_refused(server: Any, words: str) -> None:
    exc = refused(dump(config(server)))

    assert exc.field == "clusters[0].cluster.server"
    assert words in exc.message
    assert "pw@" not in exc.message


def test_a_cluster_without_server_is_refused() -> None:
    doc = config()
    del doc["clusters"][0]["cluster"]["server"]

    exc = refused(dump(doc))

    assert exc.field == "clusters[0].cluster.server"
    assert "is missing" in exc.message


def test_proxy_prefix_path_and_ip_literals_are_kept() -> None:
    assert parse_kubeconfig(dump(config("https://rancher.test/k8s/clusters/c-1"))).server == (
        "https://rancher.test/k8s/clusters/c-1"
    )
    assert parse_kubeconfig(dump(config("https://[2001:db8::1]:6443"))).server == (
        "https://[2001:db8::1]:6443"
    )


# --- certificates, keys and tokens ---------------------------------------------------------


def test_base64_garbage_is_refused_by_field(client_pair: tuple[bytes, bytes]) -> None:
    cert, key = client_pair
    doc = config()
    doc["clusters"][0]["cluster"]["certificate-authority-data"] = "not*base64!"
    exc = refused(dump(doc))
    assert exc.field == "clusters[0].cluster.certificate-authority-data"
    assert "not valid base64" in exc.message

    user = {"client-certificate-data": "%%%", "client-key-data": b64(key)}
    exc = refused(dump(config(user=user)))
    assert exc.field == "users[0].user.client-certificate-data"

    user = {"client-certificate-data": b64(cert), "client-key-data": "@@@@"}
    exc = refused(dump(config(user=user)))
    assert exc.field == "users[0].user.client-key-data"
    assert "not valid base64" in exc.message
    assert "@@@@" not in exc.message


def test_base64_that_is_not_pem_is_refused(client_pair: tuple[bytes, bytes]) -> None:
    cert, key = client_pair
    doc = config()
    doc["clusters"][0]["cluster"]["certificate-authority-data"] = b64(SECRET_TOKEN.encode())
    exc = refused(dump(doc))
    assert "does not decode to a PEM certificate" in exc.message

    # A key where the certificate belongs, and the other way round.
    exc = refused(
        dump(config(user={"client-certificate-data": b64(key), "client-key-data": b64(key)}))
    )
    assert exc.field == "users[0].user.client-certificate-data"
    assert "PRIVATE" not in exc.message
    exc = refused(
        dump(config(user={"client-certificate-data": b64(cert), "client-key-data": b64(cert)}))
    )
    assert exc.field == "users[0].user.client-key-data"
    assert "does not decode to a PEM private key" in exc.message


def test_a_key_from_another_certificate_is_refused(
    ca: trustme.CA, client_pair: tuple[bytes, bytes]
) -> None:
    cert, _key = client_pair
    other_key = ca.issue_cert("someone-else").private_key_pem.bytes()

    exc = refused(
        dump(config(user={"client-certificate-data": b64(cert), "client-key-data": b64(other_key)}))
    )

    assert exc.field == "users[0].user.client-key-data"
    assert "does not belong to the certificate" in exc.message


def test_an_encrypted_key_is_refused(client_pair: tuple[bytes, bytes]) -> None:
    from cryptography.hazmat.primitives import serialization

    cert, key = client_pair
    loaded = serialization.load_pem_private_key(key, password=None)
    locked = loaded.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"passphrase"),
    )

    exc = refused(
        dump(config(user={"client-certificate-data": b64(cert), "client-key-data": b64(locked)}))
    )

    assert "passphrase" in exc.message


def test_half_a_client_certificate_is_refused(client_pair: tuple[bytes, bytes]) -> None:
    cert, key = client_pair

    exc = refused(dump(config(user={"client-certificate-data": b64(cert)})))
    assert exc.field == "users[0].user.client-key-data"
    exc = refused(dump(config(user={"client-key-data": b64(key)})))
    assert exc.field == "users[0].user.client-certificate-data"


@pytest.mark.parametrize(
    "token", [f"{SECRET_TOKEN}\nX-Injected: 1", f"{SECRET_TOKEN} two", 12345, f"{SECRET_TOKEN}é"]
)
def test_tokens_must_be_one_printable_line(token: Any) -> None:
    exc = refused(dump(config(user={"token": token})))

    assert exc.field == "users[0].user.token"
    assert "X-Injected" not in exc.message


# --- the file itself -----------------------------------------------------------------------


def test_size_cap_applies_before_parsing() -> None:
    text = dump(config()) + "#" + "x" * 300_000 + "\n"

    exc = refused(text)
    assert exc.field == "kubeconfig"
    assert "larger than 256 KiB" in exc.message
    assert refused(text.encode()).field == "kubeconfig"
    # Multi-byte characters count as the bytes they take.
    assert "larger than 1 KiB" in refused("é" * 600, max_bytes=1024).message
    assert parse_kubeconfig(dump(config()), max_bytes=4096).token == SECRET_TOKEN


def test_malformed_yaml_gives_the_place_not_the_content() -> None:
    text = f'clusters: []\nusers:\n- name: u\n  user: {{token: "{SECRET_TOKEN}\n'

    exc = refused(text)

    assert exc.field == "kubeconfig"
    assert "not valid YAML" in exc.message
    assert "line " in exc.message
    assert "column " in exc.message


def test_yaml_tags_are_not_echoed() -> None:
    exc = refused(f"users:\n- name: u\n  user:\n    token: !{SECRET_TOKEN} x\n")

    assert "line 4, column 12" in exc.message


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("a: &x [1, 2]\nb: *x\n", "aliases"),
        ("a: 1\na: 2\n", "repeats one of its keys"),
        ("[" * 200 + "]" * 200, "nesting deeper"),
        ("apiVersion: v1\n---\napiVersion: v1\n", "more than one YAML document"),
        ("- a\n- b\n", "not a kubeconfig"),
        ("just text", "not a kubeconfig"),
        ("   \n", "is empty"),
        ("a: !!python/object/apply:os.system ['true']\n", "not valid YAML"),
        ('token: "\x07"\n', "control character"),
        ("a: !!int 'zz'\n", "line 1, column 4: a value that is not valid for its type"),
        ("a: " + "9" * 5000 + "\n", "a value that is not valid for its type"),
        ("a: 2024-13-45\n", "a value that is not valid for its type"),
        (b"token: \xff\xfe\n", "not UTF-8"),
    ],
)
def test_hostile_or_broken_yaml_is_refused(text: str | bytes, words: str) -> None:
    exc = refused(text)

    assert exc.field == "kubeconfig"
    assert words in exc.message


def test_a_billion_laughs_is_refused_without_expanding() -> None:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{i}: &a{i} [{','.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]

    exc = refused("\n".join(lines) + "\n")

    assert "aliases" in exc.message
    assert "line 2" in exc.message


def test_mangled_kubeconfigs_are_refused_and_never_crash(client_pair: tuple[bytes, bytes]) -> None:
    # Random edits (seeded, so the run is repeatable) of a full config: each result is either
    # accepted or refused with KubeconfigRefused, never another exception and never the token.
    cert, key = client_pair
    user = {
        "token": SECRET_TOKEN,
        "client-certificate-data": b64(cert),
        "client-key-data": b64(key),
    }
    base = dump(config(user=user, cluster_extra={"tls-server-name": "k.test"}))
    rng = random.Random(20261126)
    alphabet = ":-[]{}&*!|>'\"#%@`,? \n\t\x00\x07az09é"
    outcomes = {"accepted": 0, "refused": 0}
    messages: list[str] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # cryptography's deprecation notes on mangled certs
        for _ in range(1500):
            text = list(base)
            for _ in range(rng.randint(1, 6)):
                where = rng.randrange(len(text))
                choice = rng.random()
                if choice < 0.4:
                    text[where] = rng.choice(alphabet)
                elif choice < 0.7:
                    text.insert(where, rng.choice(alphabet))
                else:
                    del text[where]
            try:
                parse_kubeconfig("".join(text), allow_exec_for_token_replacement=rng.random() < 0.3)
            except KubeconfigRefused as exc:
                messages.append(exc.message)
                outcomes["refused"] += 1
            else:
                outcomes["accepted"] += 1
    assert outcomes["refused"] > 0
    assert outcomes["accepted"] > 0
    assert not [m for m in messages if SECRET_TOKEN in m]
