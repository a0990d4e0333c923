"""Which web push endpoints we accept: https on a public host name, nothing the server could
be tricked into calling on its own network (the worker POSTs to whatever is stored)."""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

from app.errors import ErrorCode, UserError

MAX_ENDPOINT_CHARS = 2_048
MAX_HOST_CHARS = 253
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
