"""What leftovers share: whom they are named after, who owns them, how old and big they are."""

from __future__ import annotations

from app.demo.catalog import RETIRED_SUFFIXES
from app.demo.cloud import DISK_SIZES
from app.demo.objects import Gen, Obj, Owner
from app.demo.tenants import Tenant
from app.demo.workloads import container, template


def app_name(gen: Gen, t: Tenant) -> str:
    """An application of the namespace to name a leftover after (its topic when none runs)."""
    return str(gen.pick(t.apps)[0].name) if t.apps else t.domain


def leftover_owner(gen: Gen, t: Tenant, app: str) -> Owner:
    """Who a leftover belongs to: mostly a retired release or just the team; sometimes the
    live release itself (which makes the engine ask for review rather than report it)."""
    roll = gen.rng.random()
    if roll < 0.12:
        return t.owner(app, gen.cloud.environment)
    if roll < 0.55 and t.style != "team":
        return t.owner(f"{app}-{gen.pick(RETIRED_SUFFIXES)}", gen.cloud.environment)
    return Owner.team(t.team)


def disk_size(gen: Gen) -> int:
    return int(gen.pick(DISK_SIZES[gen.cloud.provider]))


def waste_age(gen: Gen) -> float:
    """Days since a leftover was created: mostly months, some within the last week."""
    return gen.rng.uniform(2.5, 7) if gen.chance(0.08) else gen.rng.uniform(8, 360)


def add_configmap(gen: Gen, t: Tenant, name: str, owner: Owner, created: str) -> str:
    name = gen.unique("ConfigMap", t.ns, name)
    gen.obj(
        "v1",
        "ConfigMap",
        gen.meta("ConfigMap", name, t.ns, created=created, owner=owner),
        data={"application.yaml": "server:\n  port: 8080\n"},
    )
    return name


def add_secret(gen: Gen, t: Tenant, name: str, owner: Owner, created: str) -> str:
    name = gen.unique("Secret", t.ns, name)
    gen.obj(
        "v1",
        "Secret",
        gen.meta("Secret", name, t.ns, created=created, owner=owner),
        type="Opaque",
        data={"password": "cmVkYWN0ZWQ="},
    )
    return name


def retired_template(gen: Gen, t: Tenant, name: str, owner: Owner, created: str) -> Obj:
    cm = add_configmap(gen, t, f"{name}-config", owner, created)
    secret = add_secret(gen, t, f"{name}-credentials", owner, created)
    sa = gen.unique("ServiceAccount", t.ns, name)
    gen.obj(
        "v1", "ServiceAccount", gen.meta("ServiceAccount", sa, t.ns, created=created, owner=owner)
    )
    return template(
        {"app.kubernetes.io/name": name},
        [
            container(
                name,
                f"{gen.cloud.registry}/{t.domain}/{name}:0.{gen.rng.randint(1, 30)}.0",
                port=8080,
                env=[
                    {
                        "name": "DB_PASSWORD",
                        "valueFrom": {"secretKeyRef": {"name": secret, "key": "password"}},
                    }
                ],
                env_from=[{"configMapRef": {"name": cm}}],
            )
        ],
        service_account=sa,
    )


def some_class(gen: Gen) -> str:
    return gen.cloud.default_class if gen.chance(0.7) else gen.cloud.fast_class


def idle_lb_annotations(gen: Gen) -> dict[str, str]:
    if gen.cloud.provider == "aws" and gen.chance(0.6):
        return {"service.beta.kubernetes.io/aws-load-balancer-type": "nlb"}
    return {}
