"""Whether a cart can become an order now: its first blocking problem, by a fixed precedence.

The precedence is the order a shopper fixes things in: the lines themselves (gone, wrong
currency, repriced, short of stock), then who buys (email), where it goes (address, delivery
method), and last the coupons. A stock problem is always INSUFFICIENT_STOCK here, whether
some or none is left: completion speaks with the word of the conditional UPDATE that takes
the stock (the cart view keeps OUT_OF_STOCK for display).
"""

from __future__ import annotations

from dataclasses import replace

from app.errors import CheckoutError, ErrorCode
from app.services.cart.view import CartView, Problem

PRECEDENCE = (
    ErrorCode.CART_EMPTY,
    ErrorCode.PRODUCT_UNAVAILABLE,
    ErrorCode.CURRENCY_MISMATCH,
    ErrorCode.PRICE_CHANGED,
    ErrorCode.INSUFFICIENT_STOCK,
    ErrorCode.EMAIL_REQUIRED,
    ErrorCode.SHIPPING_ADDRESS_REQUIRED,
    ErrorCode.SHIPPING_UNAVAILABLE,
    ErrorCode.DELIVERY_METHOD_REQUIRED,
    ErrorCode.DELIVERY_METHOD_UNAVAILABLE,
)
_RANK = {code: rank for rank, code in enumerate(PRECEDENCE)}
_COUPON_RANK = len(PRECEDENCE)  # every COUPON_* code, in the order the coupons were applied


def _as_completion(code: ErrorCode) -> ErrorCode:
    return ErrorCode.INSUFFICIENT_STOCK if code == ErrorCode.OUT_OF_STOCK else code


def checkout_problems(view: CartView, *, has_email: bool) -> list[Problem]:
    """Everything that stops `view` from being ordered now, the first to fix first: the
    cart's problems and what checkout needs that the cart lacks."""
    found: list[Problem] = []
    if not view.lines:
        found.append(Problem(ErrorCode.CART_EMPTY, "The cart has no lines."))
    found += [replace(problem, code=_as_completion(problem.code)) for problem in view.problems]
    if not has_email:
        found.append(Problem(ErrorCode.EMAIL_REQUIRED, "Give an email address for the order."))
    if view.cart.shipping_address is None:
        found.append(Problem(ErrorCode.SHIPPING_ADDRESS_REQUIRED, "Give a shipping address."))
    if view.cart.shipping_method_id is None and view.cart.shipping_address is not None:
        if view.delivery_methods:
            found.append(Problem(ErrorCode.DELIVERY_METHOD_REQUIRED, "Choose a delivery method."))
        else:
            found.append(
                Problem(
                    ErrorCode.SHIPPING_UNAVAILABLE,
                    "We do not deliver this cart to this address (its country, region or weight).",
                )
            )
    elif view.cart.shipping_method_id is None:
        found.append(Problem(ErrorCode.DELIVERY_METHOD_REQUIRED, "Choose a delivery method."))
    # sorted() is stable: problems of one rank keep their order (lines, then coupons).
    return sorted(found, key=lambda problem: _RANK.get(problem.code, _COUPON_RANK))


def blocking_problem(view: CartView, *, email: str) -> CheckoutError | None:
    """The first problem that stops `view` from being ordered, as the error to raise."""
    found = checkout_problems(view, has_email=bool(email))
    if not found:
        return None
    return CheckoutError(found[0].code, found[0].message, field="cartId")
