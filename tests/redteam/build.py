"""Write the red-team cluster dumps: ``python -m tests.redteam.build [DIR]``.

Each builder returns the items of one whole-cluster ``kubectl get -o json`` List.
"""

from __future__ import annotations

import sys
from pathlib import Path

from tests.redteam import apps, platforms, waste
from tests.redteam.kube import Cluster, Obj, c, dump, ps


def _apps_on(k: Cluster) -> Cluster:
    k.storageclass(
        "gp3", "ebs.csi.aws.com", default=True, params={"type": "gp3", "encrypted": "true"}
    )
    apps.kube_prometheus_stack(k)
    apps.ingress_nginx(k)
    apps.cert_manager(k)
    apps.argocd(k)
    apps.online_boutique(k)
    apps.shop_app(k)
    apps.tricky_but_healthy(k)
    apps.istio(k)
    return k


def eks_fresh() -> list[Obj]:
    return platforms.eks().finalize()


def gke_autopilot_fresh() -> list[Obj]:
    return platforms.gke_autopilot().finalize()


def aks_fresh() -> list[Obj]:
    return platforms.aks().finalize()


def gke_gateway_app() -> list[Obj]:
    """Autopilot serving a site through a Gateway whose listener holds the TLS Secret."""
    k = platforms.gke_autopilot()
    k.namespace("web")
    k.deploy("web", "site", ps(c("site", "nginx:1.27")), selector={"app": "site"}, replicas=2)
    k.svc("web", "site", {"app": "site"})
    k.cr(
        "gateway.networking.k8s.io/v1",
        "Gateway",
        "external",
        "web",
        body={
            "spec": {
                "gatewayClassName": "gke-l7-global-external-managed",
                "listeners": [
                    {
                        "name": "https",
                        "protocol": "HTTPS",
                        "port": 443,
                        "tls": {"mode": "Terminate", "certificateRefs": [{"name": "site-tls"}]},
                    }
                ],
            }
        },
    )
    k.cr(
        "gateway.networking.k8s.io/v1",
        "HTTPRoute",
        "site",
        "web",
        body={
            "spec": {
                "parentRefs": [{"name": "external"}],
                "rules": [{"backendRefs": [{"name": "site", "port": 80}]}],
            }
        },
    )
    k.secret("web", "site-tls", "kubernetes.io/tls")
    return k.finalize()


def eks_apps() -> list[Obj]:
    return _apps_on(platforms.eks()).finalize()


def eks_waste() -> list[Obj]:
    k = _apps_on(platforms.eks())
    waste.waste(k)
    return k.finalize()


BUILDERS = {
    "eks-fresh": eks_fresh,
    "gke-autopilot-fresh": gke_autopilot_fresh,
    "aks-fresh": aks_fresh,
    "gke-gateway-app": gke_gateway_app,
    "eks-apps": eks_apps,
    "eks-waste": eks_waste,
}


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name, build in BUILDERS.items():
        (out / f"{name}.json").write_bytes(dump(build()))
        print(f"wrote {out / name}.json")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent / "dumps")
