"""PriorityClasses, CustomResourceDefinitions and Namespaces."""

from __future__ import annotations

from app.analysis.context import TEMPLATE_KINDS
from app.analysis.model import Confidence
from app.analysis.rules.base import Candidate, Found


def check_priority_classes(found: Found) -> None:
    """Report PriorityClasses no pod or template names (never the global default)."""
    if found.skip("priorityclass-unused", ("PriorityClass", *TEMPLATE_KINDS)):
        return
    for pc in found.ctx.snap.priority_classes:
        meta = pc.metadata
        if pc.global_default or meta.name.startswith("system-"):
            continue
        if found.refs.of("PriorityClass", None, meta.name):
            continue  # idle users count: the class is chosen, whether or not they run now
        found.add(
            Candidate(
                "PriorityClass",
                pc,
                "priorityclass-unused",
                "no pod or template uses it",
                Confidence.MEDIUM,
                evidence=("it is not the global default",),
                by_reference=True,
            )
        )


def check_crds(found: Found) -> None:
    """Report CRDs none of whose served versions has an instance."""
    instances = found.ctx.snap.crd_instances
    if instances is None:
        if "CustomResourceDefinition" in found.ctx.snap.listed:
            found.not_evaluated["crd-no-instances"] = "custom resource instances were not listed"
        return
    crds = found.ctx.snap.crds
    groups_in_use = {c.spec.group for c in crds if instances.get(c.metadata.name)}
    for crd in crds:
        name = crd.metadata.name
        if instances.get(name, True):
            continue  # has instances, or could not be checked
        served = [v.name for v in crd.spec.versions if v.served]
        group_used = crd.spec.group in groups_in_use
        found.add(
            Candidate(
                "CustomResourceDefinition",
                crd,
                "crd-no-instances",
                f"no {crd.spec.names.kind or name} exists in any served version"
                + (f" ({', '.join(served)})" if served else ""),
                Confidence.LOW if group_used else Confidence.MEDIUM,
                evidence=(
                    (
                        f"other kinds of API group {crd.spec.group} are in use: an installed "
                        "feature nobody uses yet"
                    )
                    if group_used
                    else f"no kind of API group {crd.spec.group} has an instance",
                ),
                by_reference=True,
            )
        )
