"""Web push subscriptions of the signed-in user: `pushSubscriptionAdd`, `pushSubscriptionRemove`."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

import strawberry
from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import ErrorCode, UserError, ValidationErrors
from app.services.push_endpoints import MAX_ENDPOINT_CHARS, check_push_endpoint, is_plain_text
from models.push_subscriptions import PushSubscription
from resolvers.base import Info, IsAuthenticated, run_mutation, user_errors_field
from resolvers.base import UserError as UserErrorType

MAX_KEY_CHARS = 200
_BASE64URL = re.compile(r"[A-Za-z0-9_-]+={0,2}")


@strawberry.input(description="A browser's PushSubscription (its JSON form).")
class PushSubscriptionInput:
    endpoint: str = strawberry.field(
        description="The push service URL: https on a public host name (no IP address, "
        "local name, user info or other port)."
    )
    p256dh: str = strawberry.field(description="keys.p256dh, base64url (P-256 public key).")
    auth: str = strawberry.field(description="keys.auth, base64url (16-byte secret).")


@strawberry.type
class PushSubscriptionPayload:
    endpoint: str | None = strawberry.field(default=None, description="The endpoint.")
    user_errors: list[UserErrorType] = user_errors_field()


@strawberry.type
class PushSubscriptionRemovePayload:
    removed: bool = strawberry.field(
        default=False, description="True when one of your subscriptions was removed."
    )
    user_errors: list[UserErrorType] = user_errors_field()


def _b64url(value: str) -> bytes | None:
    # Strict alphabet first: the decoder skips characters it does not know (NUL too),
    # which would let them through into the database.
    if len(value) > MAX_KEY_CHARS or not _BASE64URL.fullmatch(value):
        return None
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        return None


def _validate(item: PushSubscriptionInput) -> list[UserError]:
    errors: list[UserError] = []
    try:
        check_push_endpoint(item.endpoint, field="input.endpoint")
    except UserError as exc:
        errors.append(exc)
    key = _b64url(item.p256dh)
    if key is None or len(key) != 65 or key[0] != 4:
        errors.append(UserError(ErrorCode.INVALID, "Not a P-256 public key.", field="input.p256dh"))
    secret = _b64url(item.auth)
    if secret is None or len(secret) != 16:
        errors.append(
            UserError(ErrorCode.INVALID, "Not a 16-byte auth secret.", field="input.auth")
        )
    return errors


async def _add(session: AsyncSession, *, user_id: int, item: PushSubscriptionInput) -> str:
    errors = _validate(item)
    if errors:
        raise ValidationErrors(errors)
    values = {"user_id": user_id, "p256dh": item.p256dh, "auth": item.auth}
    statement = insert(PushSubscription).values(endpoint=item.endpoint, **values)
    await session.execute(
        statement.on_conflict_do_update(index_elements=[PushSubscription.endpoint], set_=values)
    )
    return item.endpoint


async def _remove(session: AsyncSession, *, user_id: int, endpoint: str) -> bool:
    if len(endpoint) > MAX_ENDPOINT_CHARS or not is_plain_text(endpoint):
        return False  # no stored endpoint looks like this (and NUL would upset PostgreSQL)
    result = await session.execute(
        delete(PushSubscription)
        .where(PushSubscription.user_id == user_id, PushSubscription.endpoint == endpoint)
        .returning(PushSubscription.id)
    )
    return result.first() is not None


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Register this browser for web push; the same endpoint again updates its "
        "keys and owner.",
        permission_classes=[IsAuthenticated],
    )
    async def push_subscription_add(
        self, info: Info, input: PushSubscriptionInput
    ) -> PushSubscriptionPayload:
        def to_payload(endpoint: Any) -> PushSubscriptionPayload:
            return PushSubscriptionPayload(endpoint=endpoint)

        return await run_mutation(
            info,
            PushSubscriptionPayload,
            _add,
            to_payload,
            user_id=info.context.user.id,  # type: ignore[union-attr]
            item=input,
        )

    @strawberry.mutation(
        description="Stop web push to this endpoint (one of yours).",
        permission_classes=[IsAuthenticated],
    )
    async def push_subscription_remove(
        self, info: Info, endpoint: str
    ) -> PushSubscriptionRemovePayload:
        def to_payload(removed: Any) -> PushSubscriptionRemovePayload:
            return PushSubscriptionRemovePayload(removed=bool(removed))

        return await run_mutation(
            info,
            PushSubscriptionRemovePayload,
            _remove,
            to_payload,
            user_id=info.context.user.id,  # type: ignore[union-attr]
            endpoint=endpoint,
        )
