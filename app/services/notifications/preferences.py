"""Notification preferences: the defaults, the lookup, and signed one-click unsubscribe tokens.

No row means the default below. `account_security` is always on and cannot be switched off;
`marketing` is opt-in.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import ErrorCode, UserError, ValidationErrors
from models.notification_preferences import NotificationPreference
from models.notifications import CHANNELS, KINDS

LOCKED_KIND = "account_security"
UNSUBSCRIBE_KEY_LABEL = b"commerce/list-unsubscribe/v1"
MAX_TOKEN_CHARS = 200
MAX_USER_ID = 2**63 - 1

DEFAULTS: dict[tuple[str, str], bool] = {
    **{(LOCKED_KIND, channel): True for channel in CHANNELS},
    ("order_updates", "email"): True,
    ("order_updates", "sms"): False,
    ("order_updates", "push"): True,
    ("shipping", "email"): True,
    ("shipping", "sms"): False,
    ("shipping", "push"): True,
    **{("marketing", channel): False for channel in CHANNELS},
}


@dataclass(frozen=True)
class Preference:
    kind: str
    channel: str
    enabled: bool
    locked: bool


def is_locked(kind: str) -> bool:
    return kind == LOCKED_KIND


async def is_enabled(session: AsyncSession, user_id: int, kind: str, channel: str) -> bool:
    """Whether `user_id` receives `kind` over `channel` (security messages always go)."""
    if is_locked(kind):
        return True
    stored = await session.scalar(
        select(NotificationPreference.enabled).where(
            NotificationPreference.user_id == user_id,
            NotificationPreference.kind == kind,
            NotificationPreference.channel == channel,
        )
    )
    return DEFAULTS.get((kind, channel), False) if stored is None else stored


async def list_preferences(session: AsyncSession, user_id: int) -> list[Preference]:
    """Every kind and channel with its effective value, in a fixed order."""
    rows = await session.scalars(
        select(NotificationPreference).where(NotificationPreference.user_id == user_id)
    )
    stored = {(row.kind, row.channel): row.enabled for row in rows}
    return [
        Preference(
            kind=kind,
            channel=channel,
            enabled=True
            if is_locked(kind)
            else stored.get((kind, channel), DEFAULTS[(kind, channel)]),
            locked=is_locked(kind),
        )
        for kind in KINDS
        for channel in CHANNELS
    ]


async def set_preference(
    session: AsyncSession, user_id: int, kind: str, channel: str, enabled: bool
) -> None:
    """Upsert one preference (the caller refuses the locked kind)."""
    statement = insert(NotificationPreference).values(
        user_id=user_id, kind=kind, channel=channel, enabled=enabled
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["user_id", "kind", "channel"], set_={"enabled": enabled}
        )
    )


@dataclass(frozen=True)
class PreferenceChange:
    kind: str
    channel: str
    enabled: bool


async def update_preferences(
    session: AsyncSession, *, user_id: int, changes: Sequence[PreferenceChange], field: str
) -> list[Preference]:
    """Set several preferences, all or none; returns every preference afterwards.

    An unknown kind or channel, or switching off account security, is INVALID on
    `{field}.{index}.kind|channel|enabled` (`field` names the list in the caller's input).
    """
    errors: list[UserError] = []
    for index, change in enumerate(changes):
        at = f"{field}.{index}"
        if change.kind not in KINDS:
            errors.append(UserError(ErrorCode.INVALID, "Unknown kind.", field=f"{at}.kind"))
        elif change.channel not in CHANNELS:
            errors.append(UserError(ErrorCode.INVALID, "Unknown channel.", field=f"{at}.channel"))
        elif is_locked(change.kind) and not change.enabled:
            errors.append(
                UserError(
                    ErrorCode.INVALID,
                    "Account security messages cannot be switched off.",
                    field=f"{at}.enabled",
                )
            )
    if errors:
        raise ValidationErrors(errors)
    for change in changes:
        if not is_locked(change.kind):  # always on: nothing to store
            await set_preference(session, user_id, change.kind, change.channel, change.enabled)
    return await list_preferences(session, user_id)


def unsubscribe_key(signing_key: str) -> bytes:
    """The key of unsubscribe tokens: derived from the signing key, never the key itself."""
    # HMAC-SHA256 under the signing key of a fixed label (HKDF-Expand with one block): a
    # token signed with the raw JWT key is no unsubscribe token, and no unsubscribe
    # signature says anything about the JWT key.
    return hmac.new(signing_key.encode(), UNSUBSCRIBE_KEY_LABEL, hashlib.sha256).digest()


def _signature(signing_key: str, body: str) -> str:
    digest = hmac.new(unsubscribe_key(signing_key), body.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def unsubscribe_token(signing_key: str, user_id: int, kind: str) -> str:
    """A signed, non-expiring `user_id:kind` token for List-Unsubscribe links."""
    if is_locked(kind):
        raise ValueError("account_security mail cannot be unsubscribed from")
    body = f"{user_id}:{kind}"
    return f"{body}:{_signature(signing_key, body)}"


def read_unsubscribe_token(signing_key: str, token: str) -> tuple[int, str] | None:
    """(user_id, kind) of a valid token, else None; security tokens are refused."""
    if len(token) > MAX_TOKEN_CHARS or not token.isascii():
        return None
    parts = token.split(":")
    if len(parts) != 3:
        return None
    user_id, kind, signature = parts
    expected = _signature(signing_key, f"{user_id}:{kind}")
    if not hmac.compare_digest(signature.encode(), expected.encode()):
        return None
    if not user_id.isdigit() or len(user_id) > 19 or kind not in KINDS or is_locked(kind):
        return None
    account = int(user_id)
    return (account, kind) if 0 < account <= MAX_USER_ID else None
