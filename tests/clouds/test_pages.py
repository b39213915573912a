"""The cloud account pages through the real app (SQLite and PostgreSQL), against real HTTP fakes:
the fake Kubernetes API (kubeconfig clusters, the main path), tests/fakes/aws.py (EKS + STS with
enforced external ids), tests/fakes/gcp.py (GKE + Google's token endpoint) and
tests/fakes/azure.py (Entra ID + ARM over HTTPS).

Covers connecting each kind, refusals shown on the form with nothing saved and no secret echoed,
malformed input and oversized uploads as field errors, replacing credentials, refresh, deletion
after confirmation, full pages and HTMX blocks, roles, and tenant isolation."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select, update

from app.accounts.models import Membership
from app.clouds import service
from app.clouds.models import CloudAccount, Cluster
from app.clouds.schemas import CONNECTION_KINDS
from app.config import Settings
from app.db import session_scope
from tests.clouds.test_service import (
    NODES,
    TOKEN,
    add_history,
    all_database_text,
    counts,
    kubeconfig_text,
    raw_ciphertexts,
)
from tests.conftest import Browser, BrowserFactory, make_settings
from tests.fakes.aws import AWS_ENV_CLEARED, FakeAWS, leftover_aws_env
from tests.fakes.azure import CLIENT_ID, CLIENT_SECRET, TENANT_ID, FakeAKS, FakeAzure
from tests.fakes.gcp import FakeCluster, FakeGCP
from tests.fakes.kube_api import FakeKubeAPI

LEFTOVER_KEY = "AKIALEFTOVEROWNKEY01"  # Leftover's own AWS identity (the default chain)
LEFTOVER_SECRET = "LeftoverOwnSecret/" + "L" * 22
PRINCIPAL = "arn:aws:iam::999988887777:role/leftover-service"
CUSTOMER_KEY = "AKIACUSTOMERKEY00001"
CUSTOMER_SECRET = "CustomerSecret+Key/" + "c" * 21
ROLE_ARN = "arn:aws:iam::444455556666:role/LeftoverReadOnly"
PROJECT = "shop-prod-4821"
SUBSCRIPTION = "11111111-aaaa-4aaa-8aaa-111111111111"
EXTERNAL_ID = re.compile(r'name="external_id" value="([^"]+)"')
SIGNATURE = re.compile(r'name="external_id_signature" value="([^"]+)"')
EMPTY = {"cloud_accounts": 0, "clusters": 0, "scan_runs": 0, "findings": 0}


# --- fakes and settings --------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Leftover's own AWS identity comes from the environment; nothing of this machine's."""
    for name in AWS_ENV_CLEARED:
        monkeypatch.delenv(name, raising=False)
    for name, value in leftover_aws_env(LEFTOVER_KEY, LEFTOVER_SECRET).items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def api() -> Iterator[FakeKubeAPI]:
    with FakeKubeAPI(NODES, token=TOKEN) as server:
        yield server


@pytest.fixture
def fake_aws(api: FakeKubeAPI) -> Iterator[FakeAWS]:
    keys = {LEFTOVER_KEY: LEFTOVER_SECRET, CUSTOMER_KEY: CUSTOMER_SECRET}
    with FakeAWS(keys=keys, roles={}) as server:
        server.add_cluster("prod", "eu-west-1", endpoint=api.url, ca_pem=api.ca_pem)
        server.add_cluster("batch", "eu-west-1", endpoint=api.url, ca_pem=api.ca_pem)
        yield server


@pytest.fixture
def fake_gcp(api: FakeKubeAPI) -> Iterator[FakeGCP]:
    with FakeGCP() as server:
        server.add_cluster(PROJECT, FakeCluster.serving("web", api))
        yield server


@pytest.fixture
def fake_azure(api: FakeKubeAPI) -> Iterator[FakeAzure]:
    clusters = [FakeAKS("aks-prod", "rg-prod", server=api.url, ca_pem=api.ca_pem, token="t")]
    with FakeAzure(subscriptions={SUBSCRIPTION: clusters}) as server:
        yield server


@pytest.fixture
def settings(
    tmp_path: Any,
    database_url: str,
    fake_aws: FakeAWS,
    fake_gcp: FakeGCP,
    fake_azure: FakeAzure,
) -> Settings:
    """Local mode with every cloud endpoint pointed at its fake."""
    return make_settings(
        tmp_path,
        database_url,
        aws_principal_arn=PRINCIPAL,
        aws_endpoint_url=fake_aws.url,
        gcp_container_endpoint=fake_gcp.url,
        gcp_token_uri=fake_gcp.token_uri,
        azure_management_endpoint=fake_azure.url,
        azure_authority=fake_azure.url,
        cloud_ca_bundle=str(fake_azure.ca_file),
        cloud_timeout_seconds=5.0,
        max_upload_bytes=16 * 1024,
    )


# --- helpers -------------------------------------------------------------------------------------


def owner(browser: BrowserFactory, email: str = "owner@example.com", org: str = "Acme") -> Browser:
    client = browser()
    client.sign_up(email, org=org)
    return client


def connect_kubeconfig(client: Browser, api: FakeKubeAPI, **data: Any) -> httpx.Response:
    form = {"provider": "kubeconfig", "kubeconfig": kubeconfig_text(api), **data}
    return client.submit("/cloud-accounts", form)


def account_url(response: httpx.Response) -> str:
    location = response.headers.get("location") or response.headers.get("HX-Redirect") or ""
    assert re.fullmatch(r"/cloud-accounts/[0-9a-f-]{36}", location), (
        response.status_code,
        response.text[:2000],
    )
    return location


def account_id(response: httpx.Response) -> uuid.UUID:
    return uuid.UUID(account_url(response).rsplit("/", 1)[1])


def aws_form(client: Browser) -> dict[str, str]:
    """The hidden external id fields of a fresh AWS connect page."""
    page = client.get("/cloud-accounts/new", params={"provider": "aws"}).text
    external_id, signature = EXTERNAL_ID.search(page), SIGNATURE.search(page)
    assert external_id
    assert signature
    return {"external_id": external_id.group(1), "external_id_signature": signature.group(1)}


def field_error(response: httpx.Response, field: str) -> str:
    """The error text shown under ``field`` (asserting the input is marked invalid)."""
    assert response.status_code == 422, (field, response.status_code)
    assert re.search(rf'id="f-{field}"[^>]*aria-invalid="true"', response.text), (
        field,
        response.text[:3000],
    )
    match = re.search(rf'id="f-{field}-error">.*?Error: </span>(.*?)</span>', response.text, re.S)
    assert match, field
    return match.group(1)


def form_error(response: httpx.Response) -> str:
    assert response.status_code == 422, response.status_code
    match = re.search(r'class="form-error".*?Error: </span>(.*?)</span>', response.text, re.S)
    assert match, response.text[:3000]
    return match.group(1)


def set_role(app: FastAPI, role: str) -> None:
    with session_scope(app.state.sessionmaker) as db:
        db.execute(update(Membership).values(role=role))


# --- connecting ----------------------------------------------------------------------------------


def test_connecting_a_kubeconfig_cluster(
    app: FastAPI, browser: BrowserFactory, api: FakeKubeAPI
) -> None:
    client = owner(browser)
    response = connect_kubeconfig(client, api, name="Basement <lab>")

    assert response.status_code == 303
    url = account_url(response)
    page = client.get(url)
    assert "Connected — 1 cluster found." in page.text
    assert "Basement &lt;lab&gt;" in page.text
    assert "on-prem" in page.text
    assert api.url in page.text
    with session_scope(app.state.sessionmaker) as db:
        cluster = db.scalars(select(Cluster)).one()
        run_jobs = [kw for name, kw in app.state.sent_jobs if name == "scans.run"]
    assert f'href="/clusters/{cluster.id}"' in page.text
    assert len(run_jobs) == 1, "a scan is queued for the new cluster"
    assert TOKEN not in page.text
    assert TOKEN not in all_database_text(app)


def test_connecting_by_upload_over_htmx(
    app: FastAPI, browser: BrowserFactory, api: FakeKubeAPI
) -> None:
    client = owner(browser)
    files = {"kubeconfig_file": ("config", kubeconfig_text(api).encode(), "text/plain")}
    response = client.submit(
        "/cloud-accounts", {"provider": "kubeconfig", "kubeconfig": ""}, htmx=True, files=files
    )

    assert response.status_code == 204
    url = account_url(response)
    with session_scope(app.state.sessionmaker) as db:
        account = db.get_one(CloudAccount, uuid.UUID(url.rsplit("/", 1)[1]))
        assert account.name == "on-prem", "an unnamed account is named after its cluster"
        assert account.config["server"] == api.url


def test_refused_credentials_show_the_reason_and_save_nothing(
    app: FastAPI, browser: BrowserFactory, api: FakeKubeAPI
) -> None:
    client = owner(browser)
    wrong = "revoked-token-must-not-come-back"
    text = kubeconfig_text(api, token=wrong)
    response = client.submit(
        "/cloud-accounts",
        {"provider": "kubeconfig", "kubeconfig": text, "name": "Lab", "context": "ctx"},
    )

    assert "Leftover could not connect" in form_error(response)
    assert api.url in response.text, "the reason names the server"
    assert 'value="Lab"' in response.text
    assert 'value="ctx"' in response.text
    assert wrong not in response.text
    assert "Secrets are never kept after an error" in response.text
    assert counts(app) == EMPTY
    assert [name for name, _ in app.state.sent_jobs if not name.startswith("mail.")] == []


def test_an_unreachable_endpoint_is_a_plain_error(
    app: FastAPI, browser: BrowserFactory, api: FakeKubeAPI
) -> None:
    client = owner(browser)
    text = kubeconfig_text(api).replace(api.url, "https://169.254.169.254")
    response = client.submit("/cloud-accounts", {"provider": "kubeconfig", "kubeconfig": text})
    assert "169.254.169.254" in form_error(response)
    assert counts(app) == EMPTY


MALFORMED: list[tuple[str, dict[str, str], str]] = [
    ("kubeconfig", {"kubeconfig": ""}, "kubeconfig"),
    ("kubeconfig", {"kubeconfig": "clusters: [unclosed"}, "kubeconfig"),
    ("kubeconfig", {"kubeconfig": "EXEC"}, "kubeconfig"),
    ("kubeconfig", {"kubeconfig": "GOOD", "context": "no-such-context"}, "context"),
    ("kubeconfig", {"kubeconfig": "GOOD", "name": "n" * 101}, "name"),
    ("kubeconfig", {"kubeconfig": "GOOD", "name": "bad\x00name"}, "name"),
    ("aws", {"auth": "role", "role_arn": "arn:aws:iam::123:user/bob"}, "role_arn"),
    ("aws", {"auth": "role", "role_arn": ""}, "role_arn"),
    ("aws", {"auth": "role", "role_arn": ROLE_ARN, "regions": "mars-north-1x"}, "regions"),
    ("aws", {"auth": "keys", "access_key_id": "nope", "secret_access_key": "x"}, "access_key_id"),
    (
        "aws",
        {"auth": "keys", "access_key_id": CUSTOMER_KEY, "secret_access_key": "short"},
        "secret_access_key",
    ),
    ("gcp", {"service_account_json": "{not json"}, "service_account_json"),
    ("gcp", {"service_account_json": '{"type": "authorized_user"}'}, "service_account_json"),
    ("azure", {"tenant_id": "contoso", "client_id": CLIENT_ID, "client_secret": "s"}, "tenant_id"),
    (
        "azure",
        {"tenant_id": TENANT_ID, "client_id": CLIENT_ID, "client_secret": ""},
        "client_secret",
    ),
]


@pytest.mark.parametrize(("provider", "data", "field"), MALFORMED)
def test_each_malformed_shape_is_a_field_error(
    app: FastAPI,
    browser: BrowserFactory,
    api: FakeKubeAPI,
    provider: str,
    data: dict[str, str],
    field: str,
) -> None:
    client = owner(browser)
    form = {"provider": provider, **data}
    if form.get("kubeconfig") == "GOOD":
        form["kubeconfig"] = kubeconfig_text(api)
    elif form.get("kubeconfig") == "EXEC":
        exec_user = {"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": "sh"}}
        form["kubeconfig"] = kubeconfig_text(api, user=exec_user)
    if provider == "aws":
        form.update(aws_form(client))
    if provider == "azure":
        form["subscription_ids"] = SUBSCRIPTION

    response = client.submit("/cloud-accounts", form)

    assert field_error(response, field)
    assert counts(app) == EMPTY
    # What was typed comes back, except secrets.
    for key in ("role_arn", "regions", "tenant_id", "context"):
        if form.get(key) and "\x00" not in form[key]:
            assert f'value="{form[key]}"' in response.text
    for secret_field in ("secret_access_key", "client_secret", "kubeconfig"):
        if len(form.get(secret_field, "")) > 3:
            assert form[secret_field] not in response.text


def test_exec_kubeconfig_names_the_refused_field(browser: BrowserFactory, api: FakeKubeAPI) -> None:
    client = owner(browser)
    exec_user = {"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": "sh"}}
    text = kubeconfig_text(api, user=exec_user)
    response = client.submit("/cloud-accounts", {"provider": "kubeconfig", "kubeconfig": text})
    assert "exec" in field_error(response, "kubeconfig")


def test_oversized_and_binary_uploads_are_field_errors(
    app: FastAPI, browser: BrowserFactory, api: FakeKubeAPI, settings: Settings
) -> None:
    client = owner(browser)
    big = kubeconfig_text(api).encode() + b"# " + b"x" * settings.max_upload_bytes
    for field, name, content in (
        ("kubeconfig", "kubeconfig_file", big),
        ("kubeconfig", "kubeconfig_file", b"\xff\xfe\x00binary"),
        ("service_account_json", "service_account_file", big),
    ):
        provider = "kubeconfig" if field == "kubeconfig" else "gcp"
        response = client.submit(
            "/cloud-accounts",
            {"provider": provider, "name": "Kept"},
            files={name: ("upload", content, "application/octet-stream")},
        )
        message = field_error(response, field)
        assert "larger than 16.0 KiB" in message or "not a text file" in message
        assert 'value="Kept"' in response.text
    pasted = client.submit(
        "/cloud-accounts", {"provider": "kubeconfig", "kubeconfig": big.decode()}
    )
    assert "pasted text is larger" in field_error(pasted, "kubeconfig")
    assert counts(app) == EMPTY


GARBAGE = ["\x00\x01\ud7ff", "y" * 100_000, "[]", "{}", "null", "- a\n- b", "😀 <b>&"]


@pytest.mark.parametrize("provider", ["aws", "gcp", "azure", "kubeconfig"])
def test_garbage_in_any_field_is_never_a_500(
    app: FastAPI, browser: BrowserFactory, provider: str
) -> None:
    client = owner(browser)
    fields = ["name", *next(k for k in CONNECTION_KINDS if k.key == provider).fields]
    for value in GARBAGE:
        form = {"provider": provider, **dict.fromkeys(fields, value)}
        response = client.submit("/cloud-accounts", form)
        assert response.status_code == 422, (provider, value[:20], response.status_code)
        assert 'class="field-error"' in response.text or 'class="form-error"' in response.text
    assert counts(app) == EMPTY


def test_an_unknown_provider_is_answered_with_the_choice(browser: BrowserFactory) -> None:
    client = owner(browser)
    response = client.submit("/cloud-accounts", {"provider": "digitalocean"})
    assert "Choose how Leftover should connect." in form_error(response)
    assert 'href="/cloud-accounts/new?provider=gcp"' in response.text


# --- AWS, GCP, Azure -----------------------------------------------------------------------------


def test_aws_role_connect_with_the_generated_external_id(
    app: FastAPI, browser: BrowserFactory, fake_aws: FakeAWS
) -> None:
    client = owner(browser)
    hidden = aws_form(client)
    assert hidden["external_id"].startswith("leftover-")
    page = client.get("/cloud-accounts/new", params={"provider": "aws"}).text
    external_id = EXTERNAL_ID.search(page)
    assert external_id is not None
    assert external_id.group(1) != hidden["external_id"], "one per connection"
    # The page shows the exact policies to paste.
    assert "sts:ExternalId" in page
    assert PRINCIPAL in page
    assert "eks:ListClusters" in page
    assert "eks:DescribeCluster" in page

    form = {"provider": "aws", "auth": "role", "role_arn": ROLE_ARN, "regions": "eu-west-1"}
    refused = client.submit("/cloud-accounts", {**form, **hidden})
    assert "could not connect" in form_error(refused), "the role does not trust this id yet"
    assert counts(app) == EMPTY

    fake_aws.roles[ROLE_ARN] = hidden["external_id"]  # the customer pastes the trust policy
    response = client.submit("/cloud-accounts", {**form, **hidden})

    url = account_url(response)
    assert "Connected — 2 clusters found." in client.get(url).text
    with session_scope(app.state.sessionmaker) as db:
        account = db.get_one(CloudAccount, uuid.UUID(url.rsplit("/", 1)[1]))
        assert account.config["external_id"] == hidden["external_id"]
        assert account.secret_ciphertext is None, "a role connection stores no secret"
        assert account.name == "AWS 444455556666"
    assert [a.external_id for a in fake_aws.assumed][-1] == hidden["external_id"]


def test_another_organisations_external_id_is_refused(
    app: FastAPI, browser: BrowserFactory, fake_aws: FakeAWS
) -> None:
    victim = owner(browser, "victim@example.com", org="Victim")
    stolen = aws_form(victim)
    fake_aws.roles[ROLE_ARN] = stolen["external_id"]
    attacker = owner(browser, "attacker@example.com", org="Attacker")

    form = {"provider": "aws", "auth": "role", "role_arn": ROLE_ARN, "regions": "eu-west-1"}
    response = attacker.submit("/cloud-accounts", {**form, **stolen})

    assert "was not issued to your organisation" in form_error(response)
    fresh = EXTERNAL_ID.search(response.text)
    assert fresh
    assert fresh.group(1) != stolen["external_id"]
    forged = attacker.submit(
        "/cloud-accounts",
        {**form, "external_id": stolen["external_id"], "external_id_signature": "0" * 64},
    )
    assert form_error(forged)
    assert counts(app) == EMPTY
    assert fake_aws.assumed == []


def test_aws_access_keys_are_the_marked_fallback(
    app: FastAPI, browser: BrowserFactory, fake_aws: FakeAWS
) -> None:
    client = owner(browser)
    page = client.get("/cloud-accounts/new", params={"provider": "aws"}).text
    assert "Access keys are less safe" in page
    form = {
        "provider": "aws",
        "auth": "keys",
        "access_key_id": CUSTOMER_KEY,
        "secret_access_key": CUSTOMER_SECRET,
        "regions": "eu-west-1",
        **aws_form(client),
    }
    url = account_url(client.submit("/cloud-accounts", form))

    detail = client.get(url).text
    assert "Access keys (less safe)" in detail
    assert "Set, last changed on" in detail
    assert CUSTOMER_SECRET not in detail
    assert CUSTOMER_SECRET not in all_database_text(app)
    assert len(raw_ciphertexts(app)) == 1


def test_gcp_connect_with_a_pasted_or_uploaded_key(
    app: FastAPI, browser: BrowserFactory, fake_gcp: FakeGCP
) -> None:
    client = owner(browser)
    key = fake_gcp.new_service_account(PROJECT)
    pasted = client.submit(
        "/cloud-accounts", {"provider": "gcp", "service_account_json": json.dumps(key)}
    )
    assert "Connected — 1 cluster found." in client.get(account_url(pasted)).text

    files = {"service_account_file": ("key.json", json.dumps(key).encode(), "application/json")}
    uploaded = client.submit(
        "/cloud-accounts",
        {"provider": "gcp", "project_ids": PROJECT, "name": "GKE"},
        files=files,
    )
    detail = client.get(account_url(uploaded)).text
    assert key["client_email"] in detail
    private_lines = [ln for ln in key["private_key"].splitlines() if "-----" not in ln]
    stored = all_database_text(app)
    for line in private_lines:
        assert line not in detail
        assert line not in stored


def test_gcp_refusal_reaches_the_form(browser: BrowserFactory, fake_gcp: FakeGCP) -> None:
    client = owner(browser)
    key = fake_gcp.new_service_account(PROJECT)
    fake_gcp.revoke(key["client_email"])
    response = client.submit(
        "/cloud-accounts", {"provider": "gcp", "service_account_json": json.dumps(key)}
    )
    assert "could not connect" in form_error(response)
    assert key["private_key_id"] not in response.text


def test_azure_connect(app: FastAPI, browser: BrowserFactory, fake_azure: FakeAzure) -> None:
    client = owner(browser)
    form = {
        "provider": "azure",
        "tenant_id": TENANT_ID,
        "client_id": CLIENT_ID,
        "client_secret": "not-the-secret",
        "subscription_ids": SUBSCRIPTION,
    }
    refused = client.submit("/cloud-accounts", form)
    assert "could not connect" in form_error(refused)
    assert f'value="{TENANT_ID}"' in refused.text
    assert "not-the-secret" not in refused.text

    response = client.submit("/cloud-accounts", {**form, "client_secret": CLIENT_SECRET})
    detail = client.get(account_url(response)).text
    assert "Connected — 1 cluster found." in detail
    assert "aks-prod" in detail
    assert CLIENT_SECRET not in detail
    assert CLIENT_SECRET not in all_database_text(app)


# --- replace, refresh, delete --------------------------------------------------------------------


def test_replace_credentials_keeps_the_old_ones_unless_the_new_work(
    app: FastAPI, browser: BrowserFactory, api: FakeKubeAPI
) -> None:
    client = owner(browser)
    url = account_url(connect_kubeconfig(client, api, context="ctx"))
    page = client.get(url + "/credentials")
    assert 'value="ctx"' in page.text
    assert TOKEN not in page.text
    [before] = raw_ciphertexts(app)

    refused = client.submit(
        url + "/credentials", {"kubeconfig": kubeconfig_text(api, token="wrong-one")}
    )
    assert "The new credentials were not saved" in form_error(refused)
    assert raw_ciphertexts(app) == [before]

    new_token = "the-rotated-token-of-the-reader"
    api.accept_token = lambda token: token in (TOKEN, new_token)
    response = client.submit(
        url + "/credentials", {"kubeconfig": kubeconfig_text(api, token=new_token)}, htmx=True
    )
    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == url
    [after] = raw_ciphertexts(app)
    assert after != before
    with session_scope(app.state.sessionmaker) as db:
        account = db.scalars(select(CloudAccount)).one()
        assert service.decrypt_secret(account, key_ring=app.state.settings.key_ring()) == {
            "token": new_token
        }
    assert "New credentials saved — 1 cluster found." in client.get(url).text


def test_replacing_an_aws_role_keeps_its_external_id(
    app: FastAPI, browser: BrowserFactory, fake_aws: FakeAWS
) -> None:
    client = owner(browser)
    hidden = aws_form(client)
    fake_aws.roles[ROLE_ARN] = hidden["external_id"]
    form = {"provider": "aws", "auth": "role", "role_arn": ROLE_ARN, "regions": "eu-west-1"}
    url = account_url(client.submit("/cloud-accounts", {**form, **hidden}))

    page = client.get(url + "/credentials").text
    assert hidden["external_id"] in page
    assert 'name="external_id"' not in page, "the stored id is used, not a posted one"
    other_role = "arn:aws:iam::444455556666:role/Other"
    fake_aws.roles[other_role] = hidden["external_id"]
    response = client.submit(
        url + "/credentials", {"auth": "role", "role_arn": other_role, "regions": "eu-west-1"}
    )
    assert response.status_code == 303
    with session_scope(app.state.sessionmaker) as db:
        account = db.scalars(select(CloudAccount)).one()
        assert (account.config["role_arn"], account.config["external_id"]) == (
            other_role,
            hidden["external_id"],
        )


def test_an_aws_account_without_an_external_id_gets_a_signed_one_on_replace(
    app: FastAPI, browser: BrowserFactory, fake_aws: FakeAWS
) -> None:
    client = owner(browser)
    keys = {"auth": "keys", "access_key_id": CUSTOMER_KEY, "secret_access_key": CUSTOMER_SECRET}
    form = {"provider": "aws", "regions": "eu-west-1", **keys, **aws_form(client)}
    url = account_url(client.submit("/cloud-accounts", form))
    with session_scope(app.state.sessionmaker) as db:
        account = db.scalars(select(CloudAccount)).one()
        account.config = {**account.config, "external_id": ""}

    page = client.get(url + "/credentials").text
    external_id, signature = EXTERNAL_ID.search(page), SIGNATURE.search(page)
    assert external_id is not None
    assert signature is not None
    role = {"auth": "role", "role_arn": ROLE_ARN, "regions": "eu-west-1"}
    forged = client.submit(
        url + "/credentials",
        {**role, "external_id": external_id.group(1), "external_id_signature": "f" * 64},
    )
    assert "was not issued to your organisation" in form_error(forged)

    fake_aws.roles[ROLE_ARN] = external_id.group(1)
    response = client.submit(
        url + "/credentials",
        {**role, "external_id": external_id.group(1), "external_id_signature": signature.group(1)},
    )
    assert response.status_code == 303
    with session_scope(app.state.sessionmaker) as db:
        account = db.scalars(select(CloudAccount)).one()
        assert account.config["external_id"] == external_id.group(1)
        assert account.secret_ciphertext is None, "the keys are gone with the switch to a role"


def test_refresh_queues_a_discovery(
    app: FastAPI, browser: BrowserFactory, api: FakeKubeAPI
) -> None:
    client = owner(browser)
    url = account_url(connect_kubeconfig(client, api))
    response = client.submit(url + "/refresh", htmx=True)
    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == url
    assert ("clouds.discover", {"account_id": url.rsplit("/", 1)[1]}) in app.state.sent_jobs
    assert "Looking for clusters" in client.get(url).text


def test_delete_names_what_goes_and_needs_confirmation(
    app: FastAPI, browser: BrowserFactory, api: FakeKubeAPI
) -> None:
    client = owner(browser)
    url = account_url(connect_kubeconfig(client, api, name="Lab"))
    with session_scope(app.state.sessionmaker) as db:
        cluster_id = db.scalars(select(Cluster.id)).one()
    add_history(app, cluster_id, findings=4)

    page = client.get(url).text
    assert "its 1 cluster," in page
    assert "scan history (2 scans)" in page
    assert "findings (4)" in page

    unconfirmed = client.submit(url + "/delete", htmx=True)
    assert "Tick the box" in field_error(unconfirmed, "confirm")
    assert counts(app) == {"cloud_accounts": 1, "clusters": 1, "scan_runs": 2, "findings": 4}

    response = client.submit(url + "/delete", {"confirm": "yes"})
    assert response.status_code == 303
    assert response.headers["location"] == "/cloud-accounts"
    assert counts(app) == EMPTY
    listing = client.get("/cloud-accounts").text
    assert "Lab is deleted, with its 1 cluster, their scan history and findings." in listing
    assert client.get(url).status_code == 404


# --- the pages -----------------------------------------------------------------------------------


def test_the_list_shows_status_clusters_and_credentials(
    app: FastAPI, browser: BrowserFactory, api: FakeKubeAPI, settings: Settings
) -> None:
    client = owner(browser)
    empty = client.get("/cloud-accounts").text
    assert "No cloud accounts connected" in empty
    for kind in ("aws", "gcp", "azure", "kubeconfig"):
        assert f'href="/cloud-accounts/new?provider={kind}"' in empty

    url = account_url(connect_kubeconfig(client, api, name="Lab"))
    api.token = "rotated"
    outcome = service.run_discovery(
        app.state.sessionmaker, url.rsplit("/", 1)[1], settings=settings
    )
    assert outcome == "needs_attention"

    listing = client.get("/cloud-accounts").text
    assert "No cloud accounts connected" not in listing
    assert f'href="{url}"' in listing
    assert "Needs attention" in listing
    assert "401" in listing or "refused" in listing.lower(), "the reason is shown"
    assert "Set, last changed on" in listing
    assert re.search(r'class="num">1\b', listing), "clusters found"
    detail = client.get(url).text
    assert "Needs attention" in detail
    assert "replace the credentials" in detail


PAGES = [
    "/cloud-accounts",
    "/cloud-accounts/new",
    "/cloud-accounts/new?provider=aws",
    "/cloud-accounts/new?provider=gcp",
    "/cloud-accounts/new?provider=azure",
    "/cloud-accounts/new?provider=kubeconfig",
    "{account}",
    "{account}/credentials",
]


@pytest.mark.parametrize("path", PAGES)
def test_full_page_and_htmx_block(browser: BrowserFactory, api: FakeKubeAPI, path: str) -> None:
    client = owner(browser)
    url = account_url(connect_kubeconfig(client, api))
    target = path.format(account=url)
    full = client.get(target)
    assert full.status_code == 200
    assert full.text.lstrip().startswith("<!doctype html>")
    assert 'aria-current="page"' in full.text
    assert 'href="/cloud-accounts"' in full.text
    block = client.get(target, headers={"HX-Request": "true"})
    assert block.status_code == 200
    assert "<html" not in block.text
    assert "<nav" not in block.text
    assert "<h1>" in block.text
    assert TOKEN not in full.text


def test_no_secret_appears_on_any_page(
    app: FastAPI,
    browser: BrowserFactory,
    api: FakeKubeAPI,
    fake_aws: FakeAWS,
    fake_gcp: FakeGCP,
    fake_azure: FakeAzure,
) -> None:
    client = owner(browser)
    key = fake_gcp.new_service_account(PROJECT)
    urls = [
        account_url(connect_kubeconfig(client, api)),
        account_url(
            client.submit(
                "/cloud-accounts",
                {
                    "provider": "aws",
                    "auth": "keys",
                    "access_key_id": CUSTOMER_KEY,
                    "secret_access_key": CUSTOMER_SECRET,
                    "regions": "eu-west-1",
                    **aws_form(client),
                },
            )
        ),
        account_url(
            client.submit(
                "/cloud-accounts", {"provider": "gcp", "service_account_json": json.dumps(key)}
            )
        ),
        account_url(
            client.submit(
                "/cloud-accounts",
                {
                    "provider": "azure",
                    "tenant_id": TENANT_ID,
                    "client_id": CLIENT_ID,
                    "client_secret": CLIENT_SECRET,
                    "subscription_ids": SUBSCRIPTION,
                },
            )
        ),
    ]
    secrets = [TOKEN, CUSTOMER_SECRET, CLIENT_SECRET, key["private_key_id"]]
    secrets += [ln for ln in key["private_key"].splitlines() if "-----" not in ln]
    pages = ["/cloud-accounts", *urls, *(u + "/credentials" for u in urls)]
    for path in pages:
        for headers in ({}, {"HX-Request": "true"}):
            text = client.get(path, headers=headers).text
            for secret in secrets:
                assert secret not in text, path
    stored = all_database_text(app)
    for secret in secrets:
        assert secret not in stored


# --- roles and tenants ---------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["member", "viewer"])
def test_members_and_viewers_see_read_only_pages(
    app: FastAPI, browser: BrowserFactory, api: FakeKubeAPI, role: str
) -> None:
    client = owner(browser)
    url = account_url(connect_kubeconfig(client, api))
    set_role(app, role)
    before = (counts(app), raw_ciphertexts(app), len(app.state.sent_jobs))

    listing = client.get("/cloud-accounts").text
    assert "/cloud-accounts/new" not in listing
    assert "Only owners and admins can connect cloud accounts" in listing
    detail = client.get(url).text
    assert "on-prem" in detail
    assert "Only owners and admins can refresh" in detail
    assert "/refresh" not in detail
    assert "/delete" not in detail
    assert "/credentials" not in detail
    for path in ("/cloud-accounts/new?provider=aws", url + "/credentials"):
        assert client.get(path).status_code == 403
    for path, data in (
        ("/cloud-accounts", {"provider": "kubeconfig", "kubeconfig": kubeconfig_text(api)}),
        (url + "/refresh", {}),
        (url + "/delete", {"confirm": "yes"}),
        (url + "/credentials", {"kubeconfig": kubeconfig_text(api)}),
    ):
        assert client.submit(path, data).status_code == 403, path
    assert (counts(app), raw_ciphertexts(app), len(app.state.sent_jobs)) == before


def test_another_organisations_account_is_a_404_everywhere(
    app: FastAPI, browser: BrowserFactory, api: FakeKubeAPI
) -> None:
    theirs = account_url(connect_kubeconfig(owner(browser, "b@example.com", org="B"), api))
    client = owner(browser, "a@example.com", org="A")
    assert theirs not in client.get("/cloud-accounts").text
    before = (counts(app), raw_ciphertexts(app), len(app.state.sent_jobs))

    for path in (theirs, theirs + "/credentials"):
        assert client.get(path).status_code == 404
    for path, data in (
        (theirs + "/refresh", {}),
        (theirs + "/delete", {"confirm": "yes"}),
        (theirs + "/credentials", {"kubeconfig": kubeconfig_text(api)}),
    ):
        assert client.submit(path, data).status_code == 404, path
    assert (counts(app), raw_ciphertexts(app), len(app.state.sent_jobs)) == before
    for path in ("/cloud-accounts/not-a-uuid", f"/cloud-accounts/{uuid.uuid4()}/credentials"):
        assert client.get(path).status_code == 404
