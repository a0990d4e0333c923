"""SQLAlchemy models, one module per domain; importing this package registers them all."""

from models.account_tokens import AccountToken
from models.accounts import RefreshToken, User
from models.addresses import Address
from models.base import Base
from models.catalog import (
    Category,
    Product,
    ProductImage,
    Review,
    Stock,
    StockAdjustment,
    Tag,
    Variant,
    Warehouse,
    WishlistItem,
    product_tags,
)
from models.notification_preferences import NotificationPreference
from models.notifications import Notification
from models.push_subscriptions import PushSubscription

__all__ = [
    "AccountToken",
    "Address",
    "Base",
    "Category",
    "Notification",
    "NotificationPreference",
    "Product",
    "ProductImage",
    "PushSubscription",
    "RefreshToken",
    "Review",
    "Stock",
    "StockAdjustment",
    "Tag",
    "User",
    "Variant",
    "Warehouse",
    "WishlistItem",
    "product_tags",
]
