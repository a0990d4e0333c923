"""Web push subscriptions: which endpoints we accept (https on a public host name, nothing the
server could be tricked into calling on its own network: the worker POSTs to whatever is
stored), key checks, and storing or removing a subscription."""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from urllib.parse import urlsplit

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import ErrorCode, UserError
from app.services.checks import Cleaner
from models.push_subscriptions import PushSubscription

MAX_ENDPOINT_CHARS = 2_048
MAX_HOST_CHARS = 253
MAX_KEY_CHARS = 200
_BASE64URL = re.compile(r"[A-Za-z0-9_-]+={0,2}")
# Names that never resolve on the public internet: RFC 6761 (test, example, invalid,
# localhost), RFC 6762 (local), RFC 7686 (onion), RFC 8375 (home.arpa), ICANN's
# .internal, arpa itself (reverse DNS), and names ICANN never delegated because private
# networks use them (home, corp, mail, lan, localdomain).
PRIVATE_SUFFIXES = (
    "localhost",
    "local",
    "internal",
    "home.arpa",
    "arpa",
    "test",
    "example",
    "invalid",
    "onion",
    "home",
    "corp",
    "mail",
    "lan",
    "localdomain",
)
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_TOP_LABEL = re.compile(r"[a-z]{2,63}|xn--[a-z0-9-]{1,59}")
# WHATWG URL: a host whose last label is a decimal or 0x-hex number is an IPv4 address.
_NUMERIC_LABEL = re.compile(r"[0-9]+|0x[0-9a-f]*")


def _invalid(message: str, field: str) -> UserError:
    return UserError(ErrorCode.INVALID, message, field=field)


def is_ip_literal(host: str) -> bool:
    """Whether a browser or a C resolver would read `host` as an IP address, in any spelling."""
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        pass
    # 2130706433, 0x7f.1, 0177.0.0.1, 127.1: every spelling inet_aton (and so getaddrinfo)
    # accepts ends in such a label.
    return bool(_NUMERIC_LABEL.fullmatch(host.lower().rstrip(".").rsplit(".", 1)[-1]))


def _public_host_problem(host: str) -> str | None:
    if is_ip_literal(host):
        return "The endpoint must name a host, not an IP address."
    labels = host.split(".")
    if len(host) > MAX_HOST_CHARS or not all(_LABEL.fullmatch(label) for label in labels):
        return "The endpoint's host is not a valid host name."
    if len(labels) < 2 or not _TOP_LABEL.fullmatch(labels[-1]):
        return "The endpoint's host must be a public, fully qualified host name."
    if any(host == suffix or host.endswith(f".{suffix}") for suffix in PRIVATE_SUFFIXES):
        return "The endpoint's host must be a public host name, not a local or reserved one."
    return None


def is_plain_text(endpoint: str) -> bool:
    """Printable ASCII without backslash: the only characters a stored endpoint has."""
    # No spaces, controls, NUL or look-alike Unicode dots, and no backslash, which
    # browsers read as "/" and urllib does not.
    return bool(endpoint) and all("!" <= char <= "~" and char != "\\" for char in endpoint)


def check_push_endpoint(endpoint: str, *, field: str = "input.endpoint") -> str:
    """The endpoint if it is an https URL on a public host name; INVALID otherwise."""
    if len(endpoint) > MAX_ENDPOINT_CHARS:
        raise _invalid("The endpoint is too long.", field)
    if not is_plain_text(endpoint):
        raise _invalid("The endpoint must be a plain https URL.", field)
    try:
        parts = urlsplit(endpoint)
        port = parts.port
    except ValueError:
        raise _invalid("The endpoint is not a valid URL.", field) from None
    if parts.scheme != "https":
        raise _invalid("The endpoint must be an https URL.", field)
    if "@" in parts.netloc:
        raise _invalid("The endpoint must not carry a user name or password.", field)
    if port not in (None, 443):
        raise _invalid("The endpoint must use the standard https port.", field)
    host = parts.hostname or ""
    if "[" in parts.netloc:
        raise _invalid("The endpoint must name a host, not an IP address.", field)
    problem = _public_host_problem(host) if host else "The endpoint has no host."
    if problem:
        raise _invalid(problem, field)
    return endpoint


def _b64url(value: str) -> bytes | None:
    # Strict alphabet first: the decoder skips characters it does not know (NUL too),
    # which would let them through into the database.
    if len(value) > MAX_KEY_CHARS or not _BASE64URL.fullmatch(value):
        return None
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        return None


def _check_subscription(*, endpoint: str, p256dh: str, auth: str) -> None:
    """ValidationErrors with every bad field of a subscription."""
    clean = Cleaner()
    clean.put("endpoint", check_push_endpoint, endpoint, field="input.endpoint")
    key = _b64url(p256dh)
    if key is None or len(key) != 65 or key[0] != 4:
        clean.fail(ErrorCode.INVALID, "Not a P-256 public key.", field="input.p256dh")
    secret = _b64url(auth)
    if secret is None or len(secret) != 16:
        clean.fail(ErrorCode.INVALID, "Not a 16-byte auth secret.", field="input.auth")
    clean.done()


async def add_subscription(
    session: AsyncSession, *, user_id: int, endpoint: str, p256dh: str, auth: str
) -> str:
    """Store a browser's subscription; the same endpoint again takes the new keys and owner."""
    _check_subscription(endpoint=endpoint, p256dh=p256dh, auth=auth)
    values = {"user_id": user_id, "p256dh": p256dh, "auth": auth}
    statement = insert(PushSubscription).values(endpoint=endpoint, **values)
    await session.execute(
        statement.on_conflict_do_update(index_elements=[PushSubscription.endpoint], set_=values)
    )
    return endpoint


async def remove_subscription(session: AsyncSession, *, user_id: int, endpoint: str) -> bool:
    """Delete one of the user's subscriptions; False when it was not theirs or not there."""
    if len(endpoint) > MAX_ENDPOINT_CHARS or not is_plain_text(endpoint):
        return False  # no stored endpoint looks like this (and NUL would upset PostgreSQL)
    result = await session.execute(
        delete(PushSubscription)
        .where(PushSubscription.user_id == user_id, PushSubscription.endpoint == endpoint)
        .returning(PushSubscription.id)
    )
    return result.first() is not None
