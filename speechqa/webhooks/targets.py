"""Where webhooks may be sent: public addresses only, unless the operator allows a private one.

An admin chooses a webhook's URL, but the webhook worker makes the request from inside the
deployment, beside Redis, PostgreSQL, the API and a cloud's metadata service. So a URL is
checked when it is registered (its host name, and every address it resolves to when it resolves
from the API), and again at every attempt: the worker resolves the name, checks every address,
and connects to the address it checked, so a name that resolves elsewhere later (DNS rebinding)
cannot switch the request to another host. Redirects are never followed (a 3xx answer is a
failed attempt), so a receiver cannot bounce a delivery to a private address either.

``SPEECHQA_WEBHOOK_ALLOWED_NETWORKS`` (networks or host names) admits receivers on a private
network, or on this host for tests and development.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from speechqa.settings import Settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

SETTING = "SPEECHQA_WEBHOOK_ALLOWED_NETWORKS"
_BLOCKED_NAMES = {"localhost", "metadata", "metadata.google.internal", "instance-data"}
_BLOCKED_SUFFIXES = (".localhost", ".internal", ".local")  # private-use and mDNS names
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_METADATA = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}


class Refused(Exception):
    """The URL's host is, or resolves to, an address webhooks are not sent to."""


@dataclass(frozen=True)
class Target:
    """Where an attempt connects: the checked address, and the name the receiver expects."""

    url: str
    host: str
    address: IPAddress


def check_registration(url: str, settings: Settings) -> str | None:
    """Why webhooks may not be sent to ``url``, or None. A name that does not resolve from here
    now is accepted: it is checked again, resolved, at every attempt."""
    host = _host(url)
    if host is None or _allowed_name(host, settings):
        return None
    try:
        _check_name(host, settings)
        addresses = _literal(host)
        if addresses is None:
            try:
                addresses = _resolve(host)
            except OSError:
                return None
        for address in addresses:
            _check_address(host, address, settings)
    except Refused as exc:
        return str(exc)
    return None


def resolve(url: str, settings: Settings) -> Target:
    """Resolve the URL's host now and check every address it gives; the target to connect to.
    Raises Refused (for a refused address) or OSError (a name that does not resolve)."""
    host = _host(url)
    if host is None:
        raise Refused("The URL names no host.")
    literal = _literal(host)
    addresses = literal if literal is not None else _resolve(host)
    if not _allowed_name(host, settings):
        _check_name(host, settings)
        for address in addresses:
            _check_address(host, address, settings)
    return Target(url, host, addresses[0])


def _host(url: str) -> str | None:
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    return host.lower().rstrip(".") if host else None


def _literal(host: str) -> list[IPAddress] | None:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        return None


def _resolve(host: str) -> list[IPAddress]:
    """Every address of ``host``. Also reads the numeric forms a resolver accepts
    (``0177.0.0.1``, ``0xa9fea9fe``, ``2852039166``) as the addresses they are."""
    infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    found: list[IPAddress] = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if address not in found:
            found.append(address)
    if not found:
        raise OSError(f"{host} has no address")
    return found


def _allowed_name(host: str, settings: Settings) -> bool:
    return host in {entry.rstrip(".") for entry in settings.webhook_allowed_networks}


def _allowed_address(address: IPAddress, settings: Settings) -> bool:
    for entry in settings.webhook_allowed_networks:
        try:
            if address in ipaddress.ip_network(entry, strict=False):
                return True
        except (ValueError, TypeError):
            continue  # a host name
    return False


def _check_name(host: str, settings: Settings) -> None:
    if host in _BLOCKED_NAMES or host.endswith(_BLOCKED_SUFFIXES):
        raise Refused(
            f"the URL's host {host} is a local or internal name: webhooks go to public "
            f"addresses only, unless {SETTING} lists it (e.g. {SETTING}={host})"
        )


def _check_address(host: str, address: IPAddress, settings: Settings) -> None:
    kind = _kind(address)
    if kind is None or _allowed_address(address, settings):
        return
    named = host if host == str(address) else f"{host} ({address})"
    network = ipaddress.ip_network(f"{address}/{24 if address.version == 4 else 64}", strict=False)
    raise Refused(
        f"the URL's host {named} is {kind} address: webhooks go to public addresses only, "
        f"unless {SETTING} admits it (e.g. {SETTING}={network})"
    )


def _kind(address: IPAddress) -> str | None:
    """What kind of non-public address ``address`` is; None for a public one."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            return _kind(embedded)
    if address in _METADATA:
        return "a cloud metadata"
    if address.is_loopback:
        return "a loopback"
    if address.is_unspecified:
        return "an unspecified"
    if address.is_link_local:
        return "a link-local"
    if address.is_multicast:
        return "a multicast"
    if isinstance(address, ipaddress.IPv4Address) and address in _CGNAT:
        return "a shared (CGNAT)"
    if address.is_reserved:
        return "a reserved"
    if address.is_private:
        return "a private"
    if not address.is_global:
        return "a reserved"
    return None
