"""The cloud accounts page (GET /cloud-accounts)."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from app.accounts.models import Role
from app.deps import CurrentOrg
from app.web import render

router = APIRouter()


@dataclass(frozen=True)
class ConnectionKind:
    """One way of letting Leftover reach clusters, as explained on the page."""

    key: str
    mark: str
    name: str
    short: str
    summary: str
    needs: str

    @property
    def connect_url(self) -> str:
        return f"/cloud-accounts/new?provider={self.key}"


CONNECTION_KINDS = (
    ConnectionKind(
        key="aws",
        mark="AWS",
        name="Amazon Web Services",
        short="AWS",
        summary="Finds every EKS cluster in the account through a read-only cross-account role.",
        needs="an IAM role trusting Leftover with the external ID we generate for you.",
    ),
    ConnectionKind(
        key="gcp",
        mark="GCP",
        name="Google Cloud",
        short="Google Cloud",
        summary="Finds the GKE clusters of a project with a service account.",
        needs="a service-account key with the Kubernetes Engine Cluster Viewer role.",
    ),
    ConnectionKind(
        key="azure",
        mark="AZ",
        name="Microsoft Azure",
        short="Azure",
        summary="Finds the AKS clusters of a subscription with a service principal.",
        needs="the tenant ID, client ID and secret of a read-only service principal.",
    ),
    ConnectionKind(
        key="kubeconfig",
        mark="K8s",
        name="Any cluster (kubeconfig)",
        short="a cluster",
        summary="Adds one cluster anywhere — on premises or another cloud.",
        needs="a kubeconfig with a token or client certificate; exec plugins are refused.",
    ),
)


@router.get("/cloud-accounts", response_class=HTMLResponse)
def cloud_account_list(request: Request, ctx: CurrentOrg) -> HTMLResponse:
    """Connected accounts and the ways to connect one; only admins and owners may connect."""
    context = {
        "nav": "clouds",
        "providers": CONNECTION_KINDS,
        "can_manage": ctx.at_least(Role.admin),
    }
    return render(request, "clouds/list.html", context, block="section")
