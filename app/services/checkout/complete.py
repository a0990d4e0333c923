"""checkoutComplete: a cart becomes an order, once, in one transaction.

Steps, in this order (docs/decisions.md, "Checkout completion"):

1. lock the cart row (concurrent completions of one cart wait here, one after the other);
2. an order of this cart with this idempotency key: return it (a replay); another key:
   CART_COMPLETED;
3. price the cart now (`cart_view`) and refuse with its first blocking problem;
4. lock the variants' stock rows (variant, warehouse order), recount what is left apart from
   this cart's own reservation, and take the units by warehouse priority with one
   conditional UPDATE, recording allocations and stock adjustments;
5. create the order with its frozen lines, redeem its promotions, record its first status,
   free the cart's reservations and mark the cart completed;
6. create the payment attempt. A gateway that answers in process (DUMMY) is asked now:
   succeeded -> paid (with its invoice), authorised -> authorized, pending -> stays
   pending_payment, declined -> PAYMENT_DECLINED and the whole transaction rolls back.
   A remote gateway (STRIPE, PAYPAL) is asked after the commit (`Placed.start_payment_id`,
   app/services/payments/provider_calls.start_payment): no row stays locked while a provider
   answers, and a retry with the same idempotency key resumes the same attempt.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import CheckoutError, ErrorCode
from app.payments.gateway import GatewayRefused, GatewayUnavailable, PaymentGateway, StartRequest
from app.payments.registry import Gateways
from app.services.cart.access import cart_for, new_token
from app.services.cart.view import CartView, cart_view
from app.services.checkout import allocation, stock
from app.services.checkout.readiness import blocking_problem
from app.services.checkout.redemption import Redeem, counted, redeem
from app.services.orders.events import record_status
from app.services.payments.records import apply_snapshot
from app.settings import PAYMENT_GATEWAYS, Settings
from models.accounts import User
from models.carts import Cart
from models.orders import Order, OrderLine
from models.payments import Payment
from models.promotions import Promotion

MAX_KEY_LENGTH = 255
MAX_PAYMENT_TOKEN_LENGTH = 255


@dataclass(frozen=True)
class PaymentData:
    gateway: str
    token: str | None


@dataclass(frozen=True)
class Placed:
    order: Order
    # A remote gateway's payment to start once the order is committed.
    start_payment_id: int | None = None


def _printable(value: str, max_length: int) -> bool:
    return 0 < len(value) <= max_length and value.isprintable()


def clean_key(value: str) -> str:
    """An idempotency key: 1 to 255 printable characters, taken as given (no trimming)."""
    if not _printable(value, MAX_KEY_LENGTH):
        raise CheckoutError(
            ErrorCode.INVALID,
            f"The idempotency key must be 1 to {MAX_KEY_LENGTH} printable characters.",
            field="idempotencyKey",
        )
    return value


def clean_payment(payment: PaymentData, *, gateways: Gateways) -> PaymentGateway:
    """The gateway to charge: INVALID for an unknown name or a bad token,
    PAYMENT_GATEWAY_DISABLED for a known gateway this shop does not take."""
    enabled = ", ".join(gateways)
    name = payment.gateway.strip().upper() if _printable(payment.gateway, 32) else ""
    gateway = gateways.enabled(name)
    if gateway is None and name in PAYMENT_GATEWAYS:
        raise CheckoutError(
            ErrorCode.PAYMENT_GATEWAY_DISABLED,
            f"This shop does not take {name}; it takes {enabled}.",
            field="payment.gateway",
        )
    if gateway is None:
        raise CheckoutError(
            ErrorCode.INVALID,
            f"Unknown payment gateway; this shop takes {enabled}.",
            field="payment.gateway",
        )
    token = payment.token
    needs_token = gateway.in_process
    if (needs_token or token is not None) and not _printable(token or "", MAX_PAYMENT_TOKEN_LENGTH):
        raise CheckoutError(
            ErrorCode.INVALID,
            f"The payment token must be 1 to {MAX_PAYMENT_TOKEN_LENGTH} printable characters.",
            field="payment.token",
        )
    return gateway


async def _replay(session: AsyncSession, cart: Cart, key: str) -> Order | None:
    if cart.completed_at is None:
        # The order and the cart's completion are written in one transaction: an open cart
        # has no order (a declined attempt left nothing).
        return None
    order = await session.scalar(
        select(Order).where(Order.cart_id == cart.id).execution_options(populate_existing=True)
    )
    if order is not None and order.idempotency_key == key:
        return order
    if order is not None or cart.completed_at is not None:
        raise CheckoutError(
            ErrorCode.CART_COMPLETED, "This cart is already an order.", field="cartId"
        )
    return None


async def _email(session: AsyncSession, cart: Cart, user_id: int | None) -> str:
    if cart.email:
        return cart.email
    owner = cart.user_id or user_id
    if owner is None:
        return ""
    return await session.scalar(select(User.email).where(User.id == owner)) or ""


async def _check_stock(
    session: AsyncSession, view: CartView, now: datetime
) -> dict[int, stock.Locked]:
    """Lock the tracked variants' stock rows and recount under the lock (the view's count
    may be stale); what the rows hold, for the allocation plan."""
    wanted = {
        line.row.variant_id: line.row.quantity
        for line in view.lines
        if line.variant is not None and line.variant.track_inventory
    }
    ids = sorted(variant_id for variant_id in wanted if variant_id is not None)
    locked = await stock.lock_and_count(session, ids, now=now, exclude_cart_id=view.cart.id)
    for variant_id in ids:
        left = locked[variant_id].left if variant_id in locked else 0
        if wanted[variant_id] > left:
            raise allocation.short(f"Only {left} left of a line's variant.")
    return locked


def _order(view: CartView, *, key: str, email: str, user_id: int | None, vat: bool) -> Order:
    priced = view.priced
    method = view.delivery_method
    assert method is not None  # blocking_problem refused a cart without one
    return Order(
        token=new_token(),
        cart_id=view.cart.id,
        idempotency_key=key,
        user_id=view.cart.user_id or user_id,
        email=email,
        status="pending_payment",
        currency=view.cart.currency,
        prices_include_tax=vat,
        subtotal_amount=priced.subtotal_amount,
        shipping_amount=priced.shipping_amount,
        shipping_tax_amount=priced.shipping_tax_amount,
        discount_amount=priced.discount_amount,
        tax_amount=priced.tax_amount,
        total_amount=priced.total_amount,
        shipping_address=view.cart.shipping_address,
        billing_address=view.cart.billing_address,
        shipping_method_id=method.id,
        shipping_method_name=method.name,
        discounts=[
            {
                "promotionId": d.promotion_id,
                "name": d.name,
                "code": d.code,
                "kind": d.kind,
                "amount": d.amount,
            }
            for d in priced.discounts
        ],
        event_sequence=0,
    )


async def _lines(session: AsyncSession, view: CartView, order: Order) -> list[allocation.Need]:
    """Insert the frozen lines; what each tracked one needs from stock."""
    rows: list[tuple[OrderLine, bool]] = []
    for line in view.lines:
        assert line.variant is not None and line.product is not None and line.priced
        priced = line.priced
        row = OrderLine(
            order_id=order.id,
            variant_id=line.variant.id,
            product_id=line.product.id,
            product_name=line.product.name,
            variant_name=line.variant.name,
            sku=line.variant.sku,
            quantity=line.row.quantity,
            unit_price_amount=priced.unit_amount,
            discount_amount=priced.discount_amount,
            tax_rate=view.priced.tax_rate,
            tax_amount=priced.tax_amount,
            total_amount=priced.gross_amount,
        )
        rows.append((row, line.variant.track_inventory))
    session.add_all([row for row, _ in rows])
    await session.flush()
    return [
        allocation.Need(row.id, row.variant_id, row.product_id, row.quantity)
        for row, tracked in rows
        if tracked and row.variant_id is not None and row.product_id is not None
    ]


async def _redemptions(session: AsyncSession, view: CartView) -> list[Redeem]:
    """The applied promotions that count a use: coupons, and limited automatic ones."""
    applied = {d.promotion_id: d.amount for d in view.priced.discounts}
    promotions = {coupon.promotion.id: coupon.promotion for coupon in view.coupons}
    automatic = sorted(set(applied) - set(promotions))
    if automatic:  # the view keeps no rows of automatic promotions; read them again
        rows = await session.scalars(select(Promotion).where(Promotion.id.in_(automatic)))
        promotions.update({row.id: row for row in rows})
    return [
        Redeem(promotions[pid], amount)
        for pid, amount in applied.items()
        if pid in promotions and counted(promotions[pid])
    ]


def _provider_key(cart: Cart, key: str, token: str) -> str:
    """The payment attempt's idempotency key at the provider."""
    # Per attempt: after a decline (nothing kept) the same key with another card must reach
    # the provider as a new request, not as a replay of the declined one.
    digest = hashlib.sha256(f"{cart.token}\0{key}\0{token}".encode()).hexdigest()
    return f"checkout-{digest[:40]}"


async def _open_payment(session: AsyncSession, order: Order, gateways: Gateways) -> int | None:
    """A remote payment of a replayed order whose start never got an answer."""
    return await session.scalar(
        select(Payment.id).where(
            Payment.order_id == order.id,
            Payment.psp_reference == "",
            Payment.status == "pending",
            Payment.gateway.in_([name for name, g in gateways.items() if not g.in_process]),
        )
    )


def _capture_mode(gateway: PaymentGateway, settings: Settings) -> str:
    if gateway.name == "STRIPE" and settings.stripe_capture == "manual":
        return "manual"
    return "automatic"


async def _pay_in_process(
    session: AsyncSession,
    *,
    gateway: PaymentGateway,
    payment: Payment,
    order: Order,
    token: str,
    settings: Settings,
    user_id: int | None,
) -> None:
    """Ask an in-process gateway now; a decline undoes the whole checkout."""
    request = StartRequest(
        amount=order.total_amount, currency=order.currency, token=token,
        idempotency_key=payment.attempt_key, order_id=order.id, order_number=order.number,
        capture=payment.capture_mode == "automatic",
    )  # fmt: skip
    try:
        started = await gateway.start(request)
    except (GatewayRefused, GatewayUnavailable) as exc:
        raise CheckoutError(
            ErrorCode.PAYMENT_DECLINED, str(exc) or "The payment was declined.",
            field="payment.token",
        ) from exc  # fmt: skip
    snapshot = started.snapshot
    if snapshot.status.value == "declined":
        raise CheckoutError(
            ErrorCode.PAYMENT_DECLINED, snapshot.message or "The payment was declined.",
            field="payment.token",
        )  # fmt: skip
    await apply_snapshot(
        session, payment=payment, order=order, snapshot=snapshot, settings=settings,
        user_id=user_id, new_payment=True,
    )  # fmt: skip


async def complete_checkout(
    session: AsyncSession,
    *,
    cart_token: str,
    user_id: int | None,
    idempotency_key: str,
    payment: PaymentData,
    settings: Settings,
    gateways: Gateways,
) -> Placed:
    """Place the cart's order and start its payment; the same key returns the first order."""
    key = clean_key(idempotency_key)
    gateway = clean_payment(payment, gateways=gateways)
    cart = await cart_for(session, token=cart_token, user_id=user_id, lock=True, open_only=False)
    if (replayed := await _replay(session, cart, key)) is not None:
        return Placed(replayed, await _open_payment(session, replayed, gateways))
    now = datetime.now(UTC)
    view = await cart_view(
        session, cart=cart, now=now, prices_include_tax=settings.prices_include_tax
    )
    email = await _email(session, cart, user_id)
    if (problem := blocking_problem(view, email=email)) is not None:
        raise problem
    locked = await _check_stock(session, view, now)

    order = _order(view, key=key, email=email, user_id=user_id, vat=settings.prices_include_tax)
    session.add(order)
    await session.flush()
    needs = await _lines(session, view, order)
    takes = allocation.plan(needs, locked)
    await allocation.take(
        session, takes, needs=needs, reason=f"order #{order.number}", user_id=user_id
    )
    await redeem(
        session,
        await _redemptions(session, view),
        order_id=order.id,
        user_id=order.user_id,
        email=email,
    )
    await record_status(session, order, "pending_payment", user_id)
    await stock.release(session, cart_id=cart.id)
    cart.completed_at = now

    token = payment.token or ""
    row = Payment(
        order_id=order.id,
        gateway=gateway.name,
        status="pending",
        capture_mode=_capture_mode(gateway, settings),
        amount=order.total_amount,
        currency=order.currency,
        attempt_key=_provider_key(cart, key, token),
    )
    session.add(row)
    await session.flush()
    if not gateway.in_process:
        return Placed(order, row.id)
    await _pay_in_process(
        session, gateway=gateway, payment=row, order=order, token=token, settings=settings,
        user_id=user_id,
    )  # fmt: skip
    await session.flush()
    return Placed(order)
