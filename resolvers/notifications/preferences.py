"""Notification preferences of the signed-in user: `myNotificationPreferences` and
`notificationPreferencesUpdate`."""

from __future__ import annotations

from typing import Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import ErrorCode, UserError, ValidationErrors
from app.services.notifications import preferences
from models.notifications import CHANNELS, KINDS
from resolvers.base import Info, IsAuthenticated, run_mutation, user_errors_field
from resolvers.base import UserError as UserErrorType


@strawberry.type(description="Whether you receive one kind of message over one channel.")
class NotificationPreference:
    kind: str = strawberry.field(
        description="account_security, order_updates, shipping or marketing."
    )
    channel: str = strawberry.field(description="email, sms or push.")
    enabled: bool = strawberry.field(description="True when these messages are sent to you.")
    locked: bool = strawberry.field(
        description="True when it cannot be switched off (account security)."
    )

    @classmethod
    def of(cls, value: preferences.Preference) -> NotificationPreference:
        return cls(
            kind=value.kind, channel=value.channel, enabled=value.enabled, locked=value.locked
        )


@strawberry.input(description="One preference to set.")
class NotificationPreferenceInput:
    kind: str = strawberry.field(
        description="account_security, order_updates, shipping or marketing."
    )
    channel: str = strawberry.field(description="email, sms or push.")
    enabled: bool = strawberry.field(description="Receive these messages or not.")


@strawberry.type
class NotificationPreferencesUpdatePayload:
    notification_preferences: list[NotificationPreference] | None = strawberry.field(
        default=None, description="All your preferences after the change."
    )
    user_errors: list[UserErrorType] = user_errors_field()


async def _update(
    session: AsyncSession, *, user_id: int, items: list[NotificationPreferenceInput]
) -> list[preferences.Preference]:
    errors: list[UserError] = []
    for index, item in enumerate(items):
        if item.kind not in KINDS:
            errors.append(
                UserError(ErrorCode.INVALID, "Unknown kind.", field=f"input.{index}.kind")
            )
        elif item.channel not in CHANNELS:
            errors.append(
                UserError(ErrorCode.INVALID, "Unknown channel.", field=f"input.{index}.channel")
            )
        elif preferences.is_locked(item.kind) and not item.enabled:
            errors.append(
                UserError(
                    ErrorCode.INVALID,
                    "Account security messages cannot be switched off.",
                    field=f"input.{index}.enabled",
                )
            )
    if errors:
        raise ValidationErrors(errors)
    for item in items:
        if not preferences.is_locked(item.kind):
            await preferences.set_preference(
                session, user_id, item.kind, item.channel, item.enabled
            )
    return await preferences.list_preferences(session, user_id)


@strawberry.type
class Query:
    @strawberry.field(
        description="Your notification preferences: every kind and channel with its value.",
        permission_classes=[IsAuthenticated],
    )
    async def my_notification_preferences(self, info: Info) -> list[NotificationPreference]:
        user_id = info.context.user.id  # type: ignore[union-attr]
        values = await preferences.list_preferences(info.context.session, user_id)
        return [NotificationPreference.of(value) for value in values]


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Switch kinds of messages on or off per channel; account security "
        "messages cannot be switched off (INVALID, and nothing is written).",
        permission_classes=[IsAuthenticated],
    )
    async def notification_preferences_update(
        self, info: Info, input: list[NotificationPreferenceInput]
    ) -> NotificationPreferencesUpdatePayload:
        def to_payload(values: Any) -> NotificationPreferencesUpdatePayload:
            return NotificationPreferencesUpdatePayload(
                notification_preferences=[NotificationPreference.of(v) for v in values]
            )

        return await run_mutation(
            info,
            NotificationPreferencesUpdatePayload,
            _update,
            to_payload,
            user_id=info.context.user.id,  # type: ignore[union-attr]
            items=input,
        )
