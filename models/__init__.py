"""SQLAlchemy models, one module per domain; importing this package registers them all."""

from models.account_tokens import AccountToken
from models.accounts import RefreshToken, User
from models.addresses import Address
from models.base import Base
from models.carts import Cart, CartLine, CartPromotion, StockReservation
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
from models.fulfilment import OrderReturn, ReturnLine, Shipment, ShipmentLine
from models.notification_preferences import NotificationPreference
from models.notifications import Notification
from models.orders import (
    Order,
    OrderAllocation,
    OrderAudit,
    OrderEvent,
    OrderLine,
    OrderNote,
)
from models.payments import (
    Invoice,
    InvoiceSequence,
    Payment,
    PaymentTransaction,
    Refund,
    WebhookEvent,
)
from models.promotions import (
    Promotion,
    PromotionRedemption,
    promotion_categories,
    promotion_products,
)
from models.push_subscriptions import PushSubscription
from models.shipping import ShippingMethod, ShippingZone, ShippingZoneArea
from models.taxes import TaxRate

__all__ = [
    "AccountToken",
    "Address",
    "Base",
    "Cart",
    "CartLine",
    "CartPromotion",
    "Category",
    "Invoice",
    "InvoiceSequence",
    "Notification",
    "NotificationPreference",
    "Order",
    "OrderAllocation",
    "OrderAudit",
    "OrderEvent",
    "OrderLine",
    "OrderNote",
    "OrderReturn",
    "Payment",
    "PaymentTransaction",
    "Product",
    "ProductImage",
    "Promotion",
    "PromotionRedemption",
    "PushSubscription",
    "RefreshToken",
    "Refund",
    "ReturnLine",
    "Review",
    "Shipment",
    "ShipmentLine",
    "ShippingMethod",
    "ShippingZone",
    "ShippingZoneArea",
    "Stock",
    "StockAdjustment",
    "StockReservation",
    "Tag",
    "TaxRate",
    "User",
    "Variant",
    "Warehouse",
    "WebhookEvent",
    "WishlistItem",
    "product_tags",
    "promotion_categories",
    "promotion_products",
]
