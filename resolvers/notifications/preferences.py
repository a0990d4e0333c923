"""Notification preferences of the signed-in user: `myNotificationPreferences` and
`notificationPreferencesUpdate`."""

from __future__ import annotations

import strawberry

from app.services.notifications import preferences
from resolvers.base import (
    Info,
    IsAuthenticated,
    UserErrorType,
    current_user,
    run_mutation,
    run_query,
    user_errors_field,
)


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

    def to_change(self) -> preferences.PreferenceChange:
        return preferences.PreferenceChange(
            kind=self.kind, channel=self.channel, enabled=self.enabled
        )


@strawberry.type
class NotificationPreferencesUpdatePayload:
    notification_preferences: list[NotificationPreference] | None = strawberry.field(
        default=None, description="All your preferences after the change."
    )
    user_errors: list[UserErrorType] = user_errors_field()


@strawberry.type
class Query:
    @strawberry.field(
        description="Your notification preferences: every kind and channel with its value.",
        permission_classes=[IsAuthenticated],
    )
    async def my_notification_preferences(self, info: Info) -> list[NotificationPreference]:
        values = await run_query(info, preferences.list_preferences, user_id=current_user(info).id)
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
        def to_payload(
            values: list[preferences.Preference],
        ) -> NotificationPreferencesUpdatePayload:
            return NotificationPreferencesUpdatePayload(
                notification_preferences=[NotificationPreference.of(v) for v in values]
            )

        return await run_mutation(
            info,
            NotificationPreferencesUpdatePayload,
            preferences.update_preferences,
            to_payload,
            user_id=current_user(info).id,
            changes=[item.to_change() for item in input],
            field="input",
        )
