"""Notification preferences: one row per (user, kind, channel) that differs from the default."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, CheckConstraint, ForeignKey, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base
from models.notifications import CHANNELS, KINDS, _one_of


class NotificationPreference(Base):
    """Whether `user_id` wants `kind` messages over `channel`; no row means the default."""

    __tablename__ = "notification_preferences"
    __table_args__ = (
        CheckConstraint(_one_of("kind", KINDS), name="kind"),
        CheckConstraint(_one_of("channel", CHANNELS), name="channel"),
    )

    user_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(Text, primary_key=True)
    channel: Mapped[str] = mapped_column(Text, primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False)
