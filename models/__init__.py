"""SQLAlchemy models, one module per domain; importing this package registers them all."""

from models.accounts import RefreshToken, User
from models.base import Base

__all__ = ["Base", "RefreshToken", "User"]
