"""The client's address, behind the proxies the settings name and no others.

A proxy appends the address it received the request from to X-Forwarded-For, so the header reads
client, proxy1, proxy2, … and REMOTE_ADDR is the nearest proxy. Anything left of the first hop we
did not add ourselves may be forged by the client, so the answer is the right-most hop that is
not a trusted proxy. Trusted are the nearest TRUSTED_PROXY_COUNT hops (REMOTE_ADDR first) and any
hop inside TRUSTED_PROXIES (addresses or CIDR networks). With neither set, X-Forwarded-For is
ignored and the answer is REMOTE_ADDR.

One answer for the login lockout (django-axes' AXES_CLIENT_IP_CALLABLE), allauth's rate limits,
the audit log's IP and the API throttles.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def request_client_ip(request: HttpRequest) -> str | None:
    """The client's address for this request, as the trusted-proxy settings say."""
    return client_ip(
        remote_addr=request.META.get("REMOTE_ADDR"),
        forwarded_for=request.META.get("HTTP_X_FORWARDED_FOR"),
        proxy_count=settings.TRUSTED_PROXY_COUNT,
        proxies=trusted_networks(tuple(settings.TRUSTED_PROXIES)),
    )


def client_ip(
    *,
    remote_addr: str | None,
    forwarded_for: str | None,
    proxy_count: int = 0,
    proxies: Sequence[Network] = (),
) -> str | None:
    """The right-most untrusted hop of X-Forwarded-For + REMOTE_ADDR (see the module)."""
    remote = _address(remote_addr)
    if proxy_count <= 0 and not proxies:
        return str(remote) if remote else (remote_addr or None)
    hops = forwarded_for.split(",") if forwarded_for else []
    if remote is not None:
        hops.append(str(remote))
    elif proxy_count <= 0 or not hops:
        return remote_addr or None
    # Behind a Unix socket (gunicorn --bind unix:…) there is no peer address: the peer is the
    # proxy in front, the first of the TRUSTED_PROXY_COUNT.
    first = 0 if remote is not None else 1
    client: Address | None = remote
    for depth, hop in enumerate(reversed(hops), start=first):
        address = _address(hop)
        if address is None:
            # A trusted proxy writes addresses: a malformed hop ends what can be believed.
            break
        client = address
        if not (depth < proxy_count or any(address in network for network in proxies)):
            break
    return str(client) if client is not None else None


@lru_cache(maxsize=8)
def trusted_networks(values: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(parse_networks(values))


def parse_networks(values: Iterable[str]) -> list[Network]:
    """Addresses and CIDR networks (`10.0.0.0/8`, `2001:db8::/32`); ValueError names a bad one."""
    networks = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError:
            raise ValueError(f"{value!r} is not an IP address or CIDR network.") from None
    return networks


def _address(value: str | None) -> Address | None:
    text = (value or "").strip()
    if text.startswith("[") and "]" in text:
        # [2001:db8::1]:443, as some proxies write IPv6 hops with a port.
        text = text[1 : text.index("]")]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    mapped = getattr(address, "ipv4_mapped", None)
    return mapped or address
