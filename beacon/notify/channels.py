"""Delivery channels: email, SMS through a provider-neutral HTTP interface, and signed
webhooks with server-side request forgery protection.

Every send carries the outbox message's id (email ``Message-ID``, webhook
``Beacon-Message-Id``, SMS ``Idempotency-Key``) so a receiver can recognise a repeat;
see :mod:`beacon.notify.outbox` for when a repeat can happen.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import ipaddress
import json
import socket
import ssl
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.core.mail import EmailMessage
from django.utils.translation import gettext as _

from beacon.notify import conf

USER_AGENT = "Beacon-Alerts/1"
MAX_URL = 500


class DeliveryError(Exception):
    """A send that did not succeed; ``permanent`` ones are not retried."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class WebhookURLError(ValueError):
    """A webhook address Beacon will not call; the message says why."""


@dataclass(frozen=True)
class Outgoing:
    """What a channel sends: one message to one target."""

    message_id: str
    target: str
    subject: str
    body: str
    payload: dict[str, Any]
    secret: str = ""
    unsubscribe_url: str = ""


# --- webhooks: address checks -----------------------------------------------------------


def _refused(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return _refused(address.ipv4_mapped)
    for flag, label in (
        ("is_loopback", _("a loopback address")),
        ("is_private", _("a private network address")),
        ("is_link_local", _("a link-local address")),
        ("is_multicast", _("a multicast address")),
        ("is_reserved", _("a reserved address")),
        ("is_unspecified", _("an unspecified address")),
    ):
        if getattr(address, flag):
            return label
    if not address.is_global:
        return _("a non-public address")
    return ""


def resolve_webhook(url: str) -> tuple[str, str, int, str, str]:
    """Check a webhook URL and resolve its host to one permitted IP address.

    Returns (scheme, host, port, path with query, ip). Raises :class:`WebhookURLError`
    for anything but plain http(s) to a public address; private, loopback, link-local,
    multicast and reserved addresses are refused unless
    ``BEACON_WEBHOOK_ALLOW_PRIVATE`` is on. Every address the name resolves to is
    checked, so a name cannot hide an internal address behind a public one.
    """
    url = (url or "").strip()
    if not url:
        raise WebhookURLError(_("Give the webhook URL."))
    if len(url) > MAX_URL:
        raise WebhookURLError(_("The URL is longer than %(n)d characters.") % {"n": MAX_URL})
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise WebhookURLError(_("That is not a valid URL.")) from None
    if parts.scheme not in ("http", "https"):
        raise WebhookURLError(_("The webhook URL must start with https:// or http://."))
    if parts.username or parts.password:
        raise WebhookURLError(_("Put no user name or password in the URL; we sign requests."))
    host = parts.hostname or ""
    if not host:
        raise WebhookURLError(_("The URL has no host name."))
    port = port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise WebhookURLError(
            _("The host %(host)s cannot be found (DNS lookup failed).") % {"host": host}
        ) from None
    addresses = []
    for info in infos:
        raw = str(info[4][0]).split("%", 1)[0]  # drop an IPv6 zone index
        addresses.append(ipaddress.ip_address(raw))
    if not addresses:
        raise WebhookURLError(_("The host %(host)s has no address.") % {"host": host})
    if not conf.webhook_allow_private():
        for address in addresses:
            reason = _refused(address)
            if reason:
                raise WebhookURLError(
                    _(
                        "Webhooks to %(host)s are refused: it resolves to %(address)s, "
                        "%(reason)s. Beacon only calls public internet addresses."
                    )
                    % {"host": host, "address": address, "reason": reason}
                )
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    # Prefer IPv4: a service on "localhost" often listens on 127.0.0.1 only.
    chosen = sorted(addresses, key=lambda a: a.version)[0]
    return parts.scheme, host, port, path, str(chosen)


# --- webhooks: signing and sending ------------------------------------------------------


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """HMAC-SHA256 over ``"<timestamp>.<body>"`` with the subscription's secret, as hex."""
    message = str(timestamp).encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    """The ``Beacon-Signature`` header value: ``t=<timestamp>,v1=<hex>``."""
    return f"t={timestamp},v1={sign(secret, timestamp, body)}"


def verify_signature(
    secret: str, header: str, body: bytes, *, tolerance: int = 300, now: int | None = None
) -> bool:
    """Check a ``Beacon-Signature`` header (what a receiver does); rejects stale stamps."""
    try:
        fields = dict(part.split("=", 1) for part in header.split(","))
        timestamp = int(fields["t"])
        given = fields["v1"]
    except (KeyError, ValueError):
        return False
    current = int(time.time()) if now is None else now
    if abs(current - timestamp) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), given)


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the address that was checked, not to whatever DNS says a moment later."""

    def __init__(self, host: str, port: int, ip: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._ip = ip

    def connect(self) -> None:
        self.sock = socket.create_connection((self._ip, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """TLS to the checked address, verifying the certificate for the host name."""

    def __init__(self, host: str, port: int, ip: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._ip = ip

    def connect(self) -> None:
        sock = socket.create_connection((self._ip, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


def post_json(
    url: str,
    body: bytes,
    headers: dict[str, str],
    *,
    timeout: float,
    check_address: bool = True,
) -> int:
    """POST ``body`` to ``url`` and return the status; redirects are not followed.

    With ``check_address`` the host is resolved and checked (again) right before the
    call and the connection goes to that checked address, which defeats DNS rebinding
    between subscription time and delivery time.
    """
    if check_address:
        scheme, host, port, path, ip = resolve_webhook(url)
    else:
        parts = urlsplit(url)
        scheme, host = parts.scheme, parts.hostname or ""
        port = parts.port or (443 if scheme == "https" else 80)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        ip = host
    connection: http.client.HTTPConnection
    if scheme == "https":
        connection = _PinnedHTTPSConnection(host, port, ip, timeout)
    else:
        connection = _PinnedHTTPConnection(host, port, ip, timeout)
    try:
        connection.request(
            "POST",
            path,
            body=body,
            headers={
                "Content-Type": "application/json",
                "User-Agent": USER_AGENT,
                "Host": host if port in (80, 443) else f"{host}:{port}",
                **headers,
            },
        )
        response = connection.getresponse()
        response.read(65536)
        return int(response.status)
    finally:
        connection.close()


def _describe(exc: BaseException) -> str:
    if isinstance(exc, socket.timeout | TimeoutError):
        return _("no answer within the time limit")
    if isinstance(exc, ConnectionRefusedError):
        return _("the connection was refused")
    if isinstance(exc, ssl.SSLError):
        return _("the TLS handshake failed (%(error)s)") % {"error": exc.reason or exc}
    return str(exc) or exc.__class__.__name__


def send_webhook(message: Outgoing, *, timeout: float | None = None) -> None:
    """POST the signed JSON payload; 2xx is success, other 4xx are permanent failures."""
    body = json.dumps(message.payload, sort_keys=True, separators=(",", ":")).encode("utf-8")
    timestamp = int(time.time())
    headers = {
        "Beacon-Signature": signature_header(message.secret, timestamp, body),
        "Beacon-Message-Id": message.message_id,
    }
    try:
        status = post_json(message.target, body, headers, timeout=timeout or conf.webhook_timeout())
    except WebhookURLError as exc:
        raise DeliveryError(str(exc), permanent=True) from None
    except (OSError, http.client.HTTPException) as exc:
        raise DeliveryError(
            _("The webhook could not be reached: %(reason)s.") % {"reason": _describe(exc)}
        ) from None
    if 200 <= status < 300:
        return
    permanent = 400 <= status < 500 and status not in (408, 425, 429)
    raise DeliveryError(
        _("The webhook answered HTTP %(status)d.") % {"status": status}, permanent=permanent
    )


# --- SMS --------------------------------------------------------------------------------


def sms_available() -> bool:
    """Whether an SMS provider is configured (``BEACON_SMS_URL``)."""
    return bool(conf.sms_url())


def send_sms(message: Outgoing) -> None:
    """POST ``{"to", "body"}`` as JSON to the configured provider with a bearer token."""
    url = conf.sms_url()
    if not url:
        raise DeliveryError(
            _("SMS is not configured on this Beacon (BEACON_SMS_URL is empty)."), permanent=True
        )
    text = message.body if len(message.body) <= 480 else message.body[:477] + "..."
    body = json.dumps({"to": message.target, "body": text}).encode("utf-8")
    headers = {"Idempotency-Key": message.message_id}
    if conf.sms_token():
        headers["Authorization"] = f"Bearer {conf.sms_token()}"
    try:
        # The provider is chosen by the operator, not by a subscriber: no address check.
        status = post_json(url, body, headers, timeout=conf.webhook_timeout(), check_address=False)
    except (OSError, http.client.HTTPException) as exc:
        raise DeliveryError(
            _("The SMS provider could not be reached: %(reason)s.") % {"reason": _describe(exc)}
        ) from None
    if not 200 <= status < 300:
        raise DeliveryError(
            _("The SMS provider answered HTTP %(status)d.") % {"status": status},
            permanent=status in (400, 401, 403, 404, 422),
        )


# --- email ------------------------------------------------------------------------------


def send_email(message: Outgoing) -> None:
    """Send through Django's email backend (SMTP, or the console backend offline).

    The Message-ID is derived from the outbox id, and ``List-Unsubscribe`` with
    ``List-Unsubscribe-Post`` give mail clients a one-click unsubscribe (RFC 8058).
    """
    headers = {"Message-ID": f"<{message.message_id}@beacon.alerts>"}
    if message.unsubscribe_url:
        headers["List-Unsubscribe"] = f"<{message.unsubscribe_url}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    email = EmailMessage(message.subject, message.body, None, [message.target], headers=headers)
    try:
        email.send(fail_silently=False)
    except OSError as exc:
        raise DeliveryError(_("The mail server refused or failed: %(e)s") % {"e": exc}) from None


SENDERS = {"email": send_email, "sms": send_sms, "webhook": send_webhook}
