"""Where a webhook may be sent, and the one way it is sent: the guard against server-side request forgery.

An endpoint's URL is checked when it is registered and again at every attempt, after DNS resolution:
every address the name resolves to must be a public unicast address (not private, loopback, link-local,
multicast, reserved, unspecified, shared or documentation space, nor an IPv6 form that embeds one). The
request then connects to the checked address itself, sending the name as the ``Host`` header and the TLS
server name (SNI, and the certificate is verified against it), so a DNS answer that changes between the
check and the connection (DNS rebinding) cannot move the request elsewhere. Redirects are never followed,
timeouts are short and at most ``MAX_RESPONSE_BYTES`` of the answer are read.

``settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS`` (default False) lifts the address check and allows ``http://``:
for tests' local receivers only.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

MAX_RESPONSE_BYTES = 64 * 1024
EXCERPT_CHARS = 500
USER_AGENT = "TMW-Webhooks/1"
_NAT64 = ipaddress.ip_network("64:ff9b::/96")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class UnsafeURL(Exception):
    """A URL that may not be sent to; the message says why, for the person who entered it."""


def allow_private() -> bool:
    return bool(getattr(settings, "WEBHOOKS_ALLOW_PRIVATE_NETWORKS", False))


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def is_public_address(ip: IPAddress) -> bool:
    """Whether ``ip`` is a public unicast address a webhook may be sent to."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None and not is_public_address(embedded):
            return False
    return bool(
        ip.is_global
        and not (
            ip.is_private
            or ip.is_loopback
            or ip.is_link_local
            or ip.is_multicast
            or ip.is_reserved
            or ip.is_unspecified
        )
    )


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address ``host`` resolves to (tests patch this to play a DNS answer)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    found: list[IPAddress] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        ip = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if ip not in found:
            found.append(ip)
    return found


@dataclass(frozen=True)
class Target:
    """A checked URL: where to connect (``address``) and what to call it (``host``)."""

    scheme: str
    host: str
    port: int
    path: str
    address: IPAddress


def check_url(url: str) -> Target:
    """The target of ``url`` once its scheme, name and every resolved address pass; ``UnsafeURL`` otherwise."""
    private_ok = allow_private()
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise UnsafeURL(f"This is not a valid URL ({exc}).") from None
    scheme = parts.scheme.lower()
    if scheme != "https" and not (private_ok and scheme == "http"):
        raise UnsafeURL("Use an https:// URL: webhooks are only sent over HTTPS.")
    if parts.username is not None or parts.password is not None:
        raise UnsafeURL("Leave credentials out of the URL: every request is signed instead.")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise UnsafeURL("The URL names no host.")
    port = port or (443 if scheme == "https" else 80)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        literal: IPAddress | None = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        addresses = [literal]
    else:
        try:
            addresses = resolve(host, port)
        except (OSError, UnicodeError, ValueError):
            raise UnsafeURL(f"The host {host} does not resolve to an address.") from None
        if not addresses:
            raise UnsafeURL(f"The host {host} does not resolve to an address.")
    if not private_ok:
        blocked = [ip for ip in addresses if not is_public_address(ip)]
        if blocked:
            raise UnsafeURL(
                f"{host} resolves to {blocked[0]}, a private, loopback, link-local or reserved address: "
                "webhooks are only sent to public addresses."
            )
    return Target(scheme=scheme, host=host, port=port, path=path, address=addresses[0])


@dataclass(frozen=True)
class Answer:
    """What one request brought back: a status code (None when no answer came) and a short excerpt."""

    status_code: int | None
    excerpt: str
    duration_ms: int
    error: str = ""
    blocked: bool = False

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Plain HTTP to the checked address, the name in the Host header (only with private networks allowed)."""

    def __init__(self, target: Target, timeout: float):
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = str(target.address)

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """TLS to the checked address, with the name as SNI and as the name the certificate must carry."""

    def __init__(self, target: Target, timeout: float, context: ssl.SSLContext):
        super().__init__(target.host, target.port, timeout=timeout, context=context)
        self._address = str(target.address)
        self._tls = context

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._tls.wrap_socket(sock, server_hostname=self.host)


def _excerpt(raw: bytes) -> str:
    return raw[:2048].decode("utf-8", errors="replace")[:EXCERPT_CHARS]


def post(url: str, *, body: str, headers: dict[str, str]) -> Answer:
    """POST ``body`` to ``url`` through the guard; never raises for network trouble (the answer says)."""
    started = time.monotonic()

    def took() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        target = check_url(url)
    except UnsafeURL as exc:
        return Answer(None, "", took(), error=str(exc)[:300], blocked=True)
    connect_timeout = float(getattr(settings, "WEBHOOKS_CONNECT_TIMEOUT", 5.0))
    read_timeout = float(getattr(settings, "WEBHOOKS_READ_TIMEOUT", 10.0))
    connection: http.client.HTTPConnection
    if target.scheme == "https":
        connection = _PinnedHTTPSConnection(target, connect_timeout, ssl.create_default_context())
    else:
        connection = _PinnedHTTPConnection(target, connect_timeout)
    try:
        connection.connect()
        assert connection.sock is not None
        connection.sock.settimeout(read_timeout)
        connection.request(
            "POST",
            target.path,
            body=body.encode(),
            headers={**headers, "Content-Type": "application/json", "User-Agent": USER_AGENT},
        )
        response = connection.getresponse()
        deadline = started + connect_timeout + read_timeout
        raw = b""
        while len(raw) < MAX_RESPONSE_BYTES and time.monotonic() < deadline:
            chunk = response.read1(MAX_RESPONSE_BYTES - len(raw)) if hasattr(response, "read1") else b""
            if not chunk:
                break
            raw += chunk
        error = ""
        if 300 <= response.status < 400:
            error = f"Redirect to {response.getheader('Location', '')[:200]} not followed."
        return Answer(response.status, _excerpt(raw), took(), error=error)
    except (OSError, http.client.HTTPException, ssl.SSLError) as exc:
        return Answer(None, "", took(), error=f"{type(exc).__name__}: {exc}"[:300])
    finally:
        connection.close()
