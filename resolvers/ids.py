"""Global IDs: the one decoder for arguments, input fields, filters and `node`, and the
encoder for IDs a payload names without an object (`deletedId`).

A wrong ID (not base64, not `Type:digits`, another type, zero, too large, non-ASCII
digits, leading zeros...) is never an error of its own: it decodes to MISSING_KEY, a
key no row has, so it takes the very path of a well-formed ID of a missing object
(NOT_FOUND in mutations, null or nothing matched in queries).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable, Sequence

from strawberry import relay

from app.errors import ErrorCode, UserError

# Every table's key is a serial starting at 1: no row has the key 0.
MISSING_KEY = 0
MAX_DB_ID = 2**63 - 1
# "Type:9223372036854775807" in base64 is 32 characters; longer input is not an ID.
MAX_ID_LENGTH = 128
_GLOBAL_ID = re.compile(r"([A-Za-z_][A-Za-z0-9_]*):([1-9][0-9]{0,18})")
_NODE_ID = re.compile(r"[1-9][0-9]{0,18}")
# A capability token in a global ID ("Cart:<43 URL-safe base64 characters>").
_TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")
_TOKEN_ID = re.compile(r"([A-Za-z_][A-Za-z0-9_]*):([A-Za-z0-9_-]{43})")
MISSING_TOKEN = ""


def node_key(node_id: str) -> int:
    """The key in the node part of a global ID ("42"), or MISSING_KEY if it cannot be one."""
    if not isinstance(node_id, str) or not _NODE_ID.fullmatch(node_id):
        return MISSING_KEY
    key = int(node_id)
    return key if key <= MAX_DB_ID else MISSING_KEY


def parse_global_id(value: object) -> tuple[str, int] | None:
    """(type name, key) of a well-formed global ID, or None for anything else."""
    if not isinstance(value, str) or not 0 < len(value) <= MAX_ID_LENGTH:
        return None
    try:
        raw = base64.b64decode(value + "=" * (-len(value) % 4), validate=True)
        text = raw.decode("ascii")
    except (binascii.Error, ValueError):  # UnicodeError is a ValueError
        return None
    match = _GLOBAL_ID.fullmatch(text)
    if match is None:
        return None
    key = node_key(match.group(2))
    return (match.group(1), key) if key != MISSING_KEY else None


def decode_id(value: str, type_name: str) -> int:
    """The key of an ID of `type_name`; MISSING_KEY for any other input."""
    parsed = parse_global_id(value)
    return parsed[1] if parsed is not None and parsed[0] == type_name else MISSING_KEY


def key_or_none(value: str, type_name: str) -> int | None:
    """The key of an ID of `type_name`, or None for any other input (an input list's entry
    that the service reports as NOT_FOUND with its own field path)."""
    parsed = parse_global_id(value)
    return parsed[1] if parsed is not None and parsed[0] == type_name else None


def node_token(node_id: str) -> str:
    """The token in the node part of a token ID, or MISSING_TOKEN if it cannot be one."""
    if not isinstance(node_id, str) or not _TOKEN.fullmatch(node_id):
        return MISSING_TOKEN
    return node_id


def decode_token_id(value: object, type_name: str) -> str:
    """The token of an ID of `type_name` whose key is a random token (a cart), or
    MISSING_TOKEN (a token no row has) for any other input."""
    if not isinstance(value, str) or not 0 < len(value) <= MAX_ID_LENGTH:
        return MISSING_TOKEN
    try:
        text = base64.b64decode(value + "=" * (-len(value) % 4), validate=True).decode("ascii")
    except (binascii.Error, ValueError):
        return MISSING_TOKEN
    match = _TOKEN_ID.fullmatch(text)
    if match is None or match.group(1) != type_name:
        return MISSING_TOKEN
    return match.group(2)


def parse_node_id(value: object) -> tuple[str, str] | None:
    """(type name, node part) of a well-formed global ID, integer-keyed ("Product:42") or
    token-keyed ("Cart:<token>"); None for anything else. The node part is for
    `resolve_nodes`, which decodes it with node_key / node_token."""
    parsed = parse_global_id(value)
    if parsed is not None:
        return parsed[0], str(parsed[1])
    if not isinstance(value, str) or not 0 < len(value) <= MAX_ID_LENGTH:
        return None
    try:
        text = base64.b64decode(value + "=" * (-len(value) % 4), validate=True).decode("ascii")
    except (binascii.Error, ValueError):
        return None
    match = _TOKEN_ID.fullmatch(text)
    return (match.group(1), match.group(2)) if match is not None else None


def decode_optional_id(value: str | None, type_name: str) -> int | None:
    """Like `decode_id`, with None (no reference given) kept as None."""
    return None if value is None else decode_id(value, type_name)


def decode_ids(
    values: Sequence[str], type_name: str, *, field: str, limit: int | None = None
) -> list[int]:
    """Keys of a list of IDs (wrong ones as MISSING_KEY); INVALID when over `limit`."""
    if limit is not None and len(values) > limit:
        raise UserError(ErrorCode.INVALID, f"At most {limit} IDs are allowed.", field=field)
    return [decode_id(value, type_name) for value in values]


def node_keys(node_ids: Iterable[str]) -> list[int]:
    """Keys of the node parts `resolve_nodes` receives (MISSING_KEY for bad ones)."""
    return [node_key(node_id) for node_id in node_ids]


def global_id(type_name: str, key: int | str) -> relay.GlobalID:
    """The global ID of the `type_name` row `key`, e.g. the `deletedId` of a delete payload."""
    return relay.GlobalID(type_name, str(key))
