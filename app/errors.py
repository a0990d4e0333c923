"""Expected errors of the business rules; resolvers turn them into `userErrors`.

The one home of the error classes: UserError, ValidationErrors and one subclass per domain.
"""

from __future__ import annotations

from enum import Enum


class ErrorCode(Enum):
    """Machine-readable reason of a user error; stable across releases."""

    INVALID = "INVALID"
    REQUIRED = "REQUIRED"
    TOO_LONG = "TOO_LONG"
    UNIQUE = "UNIQUE"
    NOT_FOUND = "NOT_FOUND"
    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
    PASSWORD_TOO_WEAK = "PASSWORD_TOO_WEAK"
    INACTIVE = "INACTIVE"
    INVALID_TOKEN = "INVALID_TOKEN"
    TOKEN_REUSED = "TOKEN_REUSED"
    ALREADY_REVIEWED = "ALREADY_REVIEWED"
    CYCLE = "CYCLE"
    NOT_EMPTY = "NOT_EMPTY"
    INSUFFICIENT_STOCK = "INSUFFICIENT_STOCK"
    PROVIDER_UNAVAILABLE = "PROVIDER_UNAVAILABLE"
    EMAIL_NOT_VERIFIED = "EMAIL_NOT_VERIFIED"
    LAST_ADMIN = "LAST_ADMIN"
    # Cart and checkout.
    TOO_MANY_LINES = "TOO_MANY_LINES"
    CURRENCY_MISMATCH = "CURRENCY_MISMATCH"
    PRODUCT_UNAVAILABLE = "PRODUCT_UNAVAILABLE"
    PRICE_CHANGED = "PRICE_CHANGED"
    OUT_OF_STOCK = "OUT_OF_STOCK"
    SHIPPING_ADDRESS_REQUIRED = "SHIPPING_ADDRESS_REQUIRED"
    SHIPPING_UNAVAILABLE = "SHIPPING_UNAVAILABLE"
    DELIVERY_METHOD_REQUIRED = "DELIVERY_METHOD_REQUIRED"
    DELIVERY_METHOD_UNAVAILABLE = "DELIVERY_METHOD_UNAVAILABLE"
    EMAIL_REQUIRED = "EMAIL_REQUIRED"
    CART_EMPTY = "CART_EMPTY"
    CART_COMPLETED = "CART_COMPLETED"
    COUPON_INVALID = "COUPON_INVALID"
    COUPON_NOT_STARTED = "COUPON_NOT_STARTED"
    COUPON_EXPIRED = "COUPON_EXPIRED"
    COUPON_EXHAUSTED = "COUPON_EXHAUSTED"
    COUPON_USED_UP_BY_CUSTOMER = "COUPON_USED_UP_BY_CUSTOMER"
    COUPON_MINIMUM_NOT_MET = "COUPON_MINIMUM_NOT_MET"
    COUPON_NOT_APPLICABLE = "COUPON_NOT_APPLICABLE"
    COUPON_NOT_STACKABLE = "COUPON_NOT_STACKABLE"
    PAYMENT_DECLINED = "PAYMENT_DECLINED"
    PAYMENT_GATEWAY_UNAVAILABLE = "PAYMENT_GATEWAY_UNAVAILABLE"
    PAYMENT_GATEWAY_DISABLED = "PAYMENT_GATEWAY_DISABLED"
    PAYMENT_GATEWAY_ERROR = "PAYMENT_GATEWAY_ERROR"
    PAYMENT_NOT_CAPTURABLE = "PAYMENT_NOT_CAPTURABLE"
    PAYMENT_NOT_VOIDABLE = "PAYMENT_NOT_VOIDABLE"
    NOTHING_TO_REFUND = "NOTHING_TO_REFUND"
    REFUND_EXCEEDS_CAPTURED = "REFUND_EXCEEDS_CAPTURED"
    REFUND_EXCEEDS_LINE = "REFUND_EXCEEDS_LINE"
    WEBHOOK_EVENT_NOT_FAILED = "WEBHOOK_EVENT_NOT_FAILED"
    ILLEGAL_TRANSITION = "ILLEGAL_TRANSITION"
    FULFILMENT_EXCEEDS_LINE = "FULFILMENT_EXCEEDS_LINE"
    RETURN_WINDOW_CLOSED = "RETURN_WINDOW_CLOSED"
    RETURN_EXCEEDS_DELIVERED = "RETURN_EXCEEDS_DELIVERED"
    USE_DEDICATED_MUTATION = "USE_DEDICATED_MUTATION"


class UserError(Exception):
    """A rule the client broke: carries a code, a message and the offending input field.

    `persist` is False for almost every error: the transaction is rolled back and
    nothing is written. An error whose side effect must survive (revoking a token
    family when a refresh token is replayed) sets it to True.
    """

    persist = False

    def __init__(self, code: ErrorCode, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field


class ValidationErrors(UserError):
    """Several field errors found at once, reported together."""

    def __init__(self, errors: list[UserError]) -> None:
        super().__init__(errors[0].code, errors[0].message, field=errors[0].field)
        self.errors = errors


class AccountError(UserError):
    """An error of the accounts domain."""


class AddressError(UserError):
    """An error of the address book."""


class CatalogError(UserError):
    """An error of the catalog domain (products, categories, stock)."""


class ReviewError(UserError):
    """An error of product reviews."""


class WishlistError(UserError):
    """An error of the wishlist."""


class CartError(UserError):
    """An error of the cart (lines, addresses, delivery method, coupons)."""


class CheckoutError(UserError):
    """An error of shipping, tax and promotion rules, or of checkout completion."""


class NotificationError(UserError):
    """An error of the notifications domain."""


class TokenReuseError(AccountError):
    """A refresh token was used twice: its whole family has been revoked."""

    persist = True

    def __init__(self) -> None:
        super().__init__(
            ErrorCode.TOKEN_REUSED,
            "This refresh token was already used; all sessions from it are revoked.",
            field="refreshToken",
        )


class PaymentError(UserError):
    """An error of payments, refunds, invoices or the webhook inbox."""


class OrderError(UserError):
    """An error of the order lifecycle."""
