"""The outbound-address guard: which IP addresses a cluster endpoint may be reached at.

A cluster's ``server`` URL comes from a customer (an uploaded kubeconfig, a cloud API answer),
so it could point at the cloud metadata service or at something on Leftover's own network.
``check_endpoint`` resolves the host once and vets every address; the caller then connects to
those vetted addresses only (never re-resolving the name, which would let DNS rebinding swap
in another address between the check and the connection) while TLS still verifies the name.
"""

from __future__ import annotations

import ipaddress
import socket

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Instance-metadata and credential endpoints of the clouds. No Kubernetes API server lives
# there, so they are refused even when private endpoints are allowed.
METADATA_ADDRESSES: frozenset[IPAddress] = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack, DigitalOcean …
        "169.254.170.2",  # AWS ECS task credentials
        "169.254.169.123",  # AWS time sync, same link-local service block
        "169.254.169.253",  # AWS VPC DNS resolver
        "100.100.100.200",  # Alibaba Cloud
        "192.0.0.192",  # Oracle Cloud (legacy)
        "fd00:ec2::254",  # AWS IPv6 metadata
        "fd00:ec2::23",  # AWS IPv6 time sync
    )
)

_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class EndpointRefused(Exception):
    """A cluster endpoint that Leftover will not connect to; ``reason`` says why in plain words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (mapped, 6to4, NAT64), if any."""
    if isinstance(ip, ipaddress.IPv4Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def classify(ip: IPAddress) -> str | None:
    """Why ``ip`` is not a public internet address ("loopback", "private", …); None if it is."""
    inner = _embedded_ipv4(ip)
    if inner is not None:
        return classify(inner) or (None if ip.is_global else "reserved")
    checks: tuple[tuple[bool, str], ...] = (
        (ip in METADATA_ADDRESSES, "cloud metadata"),
        (ip.is_unspecified, "unspecified"),
        (ip.is_loopback, "loopback"),
        (ip.is_link_local, "link-local"),
        (ip.is_multicast, "multicast"),
        (isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT, "carrier-grade NAT"),
        (ip.is_reserved, "reserved"),
        (ip.is_private, "private"),
        (not ip.is_global, "reserved"),
    )
    for matched, reason in checks:
        if matched:
            return reason
    return None


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address ``host`` resolves to, in the resolver's order, without duplicates."""
    try:
        literal = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    else:
        return [literal]
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise EndpointRefused(f"the name {host} does not resolve") from exc
    seen: list[IPAddress] = []
    for _family, _type, _proto, _canon, sockaddr in infos:
        ip = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if ip not in seen:
            seen.append(ip)
    if not seen:
        raise EndpointRefused(f"the name {host} does not resolve")
    return seen


def check_endpoint(host: str, port: int, *, allow_private: bool) -> list[IPAddress]:
    """Resolve ``host`` and return the addresses to connect to, or refuse the endpoint.

    Every resolved address must pass: one bad answer among good ones refuses the whole name,
    since an attacker controlling DNS picks which answer a client uses.
    """
    if not 0 < port < 65536:
        raise EndpointRefused(f"port {port} is not a valid TCP port")
    addresses = resolve(host, port)
    for ip in addresses:
        reason = classify(ip)
        if reason is None:
            continue
        if reason == "cloud metadata":
            raise EndpointRefused(f"{host} resolves to {ip}, a cloud metadata address")
        if not allow_private:
            shown = host if host.strip("[]") == str(ip) else f"{host} ({ip})"
            article = "an" if reason[0] in "aeiou" else "a"
            raise EndpointRefused(
                f"{shown} is {article} {reason} address and private endpoints are not allowed"
            )
    return addresses
