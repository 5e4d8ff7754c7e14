"""A small evaluator of Kubernetes NetworkPolicy semantics (networking.k8s.io/v1) for the tests:
may a pod reach a destination on a port, given every policy of both namespaces?"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Endpoint:
    """A pod (namespace + labels + named ports) or, with pod=False, an address outside the cluster."""

    namespace: str
    labels: dict[str, str] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)
    pod: bool = True

    @property
    def namespace_labels(self) -> dict[str, str]:
        return {"kubernetes.io/metadata.name": self.namespace}


def selects(selector: dict[str, Any] | None, labels: dict[str, str]) -> bool:
    if selector is None:
        return False
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr["key"], expr["operator"], expr.get("values", [])
        ok = {
            "In": key in labels and labels[key] in values,
            "NotIn": key not in labels or labels[key] not in values,
            "Exists": key in labels,
            "DoesNotExist": key not in labels,
        }[op]
        if not ok:
            return False
    return True


def _peer_matches(peer: dict[str, Any], policy_ns: str, other: Endpoint) -> bool:
    if "ipBlock" in peer:
        return not other.pod  # the tests use ipBlock only for "outside the cluster"
    if not other.pod:
        return False
    if "namespaceSelector" in peer:
        if not selects(peer["namespaceSelector"], other.namespace_labels):
            return False
    elif other.namespace != policy_ns:
        return False
    return "podSelector" not in peer or selects(peer["podSelector"], other.labels)


def _port_matches(ports: list[dict[str, Any]] | None, target: Endpoint, port: int) -> bool:
    if not ports:
        return True
    for entry in ports:
        p = entry.get("port")
        if p is None or p == port or (isinstance(p, str) and target.ports.get(p) == port):
            return True
    return False


def _side_allows(
    policies: list[dict[str, Any]], subject: Endpoint, other: Endpoint, target: Endpoint, port: int, direction: str
) -> bool:
    peers_key = "from" if direction == "Ingress" else "to"
    rules_key = direction.lower()
    applying = [
        p
        for p in policies
        if p["metadata"].get("namespace", subject.namespace) == subject.namespace
        and direction in p["spec"].get("policyTypes", ["Ingress"])
        and selects(p["spec"]["podSelector"], subject.labels)
    ]
    if not applying:
        return True  # not isolated in this direction
    for policy in applying:
        ns = policy["metadata"].get("namespace", subject.namespace)
        for rule in policy["spec"].get(rules_key) or []:
            peers = rule.get(peers_key)
            if (not peers or any(_peer_matches(peer, ns, other) for peer in peers)) and _port_matches(
                rule.get("ports"), target, port
            ):
                return True
    return False


def allowed(policies: list[dict[str, Any]], src: Endpoint, dst: Endpoint, port: int) -> bool:
    egress_ok = not src.pod or _side_allows(policies, src, dst, dst, port, "Egress")
    ingress_ok = not dst.pod or _side_allows(policies, dst, src, dst, port, "Ingress")
    return egress_ok and ingress_ok
