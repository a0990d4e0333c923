"""HTTP caching headers of GraphQL answers, so a CDN or browser may keep the public ones.

A public answer (the one decision the response cache makes: no Authorization, a query,
no errors, nothing private read) says `Cache-Control: public, max-age=HTTP_CACHE_MAX_AGE_SECONDS`
and carries a weak ETag; every other answer says `private, no-store`. Every answer varies
on `Accept` (the media type) and `Authorization` (the user). The ETag hashes the media
type and the answer without its `extensions`: those hold the client's own cost budget,
so two clients' bytes differ while the answer is the same (hence weak, `W/`).
"""

from __future__ import annotations

import base64
import hashlib

from starlette.types import Send

VARY = "Accept, Authorization"
NOT_STORED = {"Cache-Control": "private, no-store", "Vary": VARY}


def entity_tag(media: str, body: bytes) -> str:
    digest = hashlib.sha256(media.encode() + b"\0" + body).digest()
    return 'W/"' + base64.urlsafe_b64encode(digest[:18]).decode() + '"'


def public_headers(media: str, body: bytes, max_age: int) -> dict[str, str]:
    """The caching headers of a public answer whose body (without extensions) is `body`."""
    return {
        "Cache-Control": f"public, max-age={max_age}",
        "ETag": entity_tag(media, body),
        "Vary": VARY,
    }


def _opaque(tag: str) -> str:
    tag = tag.strip()
    return tag[2:] if tag.startswith("W/") else tag


def none_match(if_none_match: bytes | None, etag: str) -> bool:
    """Whether `If-None-Match` names `etag` (weak comparison, as RFC 9110 asks for it)."""
    if if_none_match is None:
        return False
    tags = if_none_match.decode("latin-1").split(",")
    wanted = _opaque(etag)
    return any(tag.strip() == "*" or _opaque(tag) == wanted for tag in tags)


async def send_not_modified(send: Send, headers: dict[str, str]) -> None:
    """304 without a body (nor its length: that would be the 200's)."""
    raw = [(name.lower().encode(), value.encode()) for name, value in headers.items()]
    await send({"type": "http.response.start", "status": 304, "headers": raw})
    await send({"type": "http.response.body", "body": b""})
