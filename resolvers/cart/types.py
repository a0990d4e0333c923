"""GraphQL types of the cart, built from a `CartView` tree: plain fields, no per-field SQL."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import pycountry
import strawberry
from strawberry import relay

from app.errors import ErrorCode
from app.services.cart import queries
from app.services.cart.view import CartView, LineView, Problem
from app.services.checkout.readiness import checkout_problems
from models.shipping import ShippingMethod
from resolvers.base import Info, global_id, node_token, run_query
from resolvers.catalog.types import Variant
from resolvers.money import Money

MAX_INT = 2**31 - 1  # GraphQL's Int is 32-bit; a cart of 999 one-tonne units weighs more


@strawberry.type(description="Something that stops the cart from being checked out as it is.")
class CartProblem:
    code: ErrorCode = strawberry.field(description="What is wrong.")
    message: str = strawberry.field(description="Human-readable explanation.")
    line_id: relay.GlobalID | None = strawberry.field(
        description="The line at fault, or null for the whole cart."
    )

    @classmethod
    def of(cls, problem: Problem) -> CartProblem:
        line = global_id("CartLine", problem.line_id) if problem.line_id is not None else None
        return cls(code=problem.code, message=problem.message, line_id=line)


@strawberry.type(description="A line of a cart, priced now.")
class CartLine:
    id: relay.GlobalID = strawberry.field(description="The line's ID, for updates and removal.")
    product_name: str = strawberry.field(description="Product name when the line was added.")
    variant_name: str = strawberry.field(description="Variant name when the line was added.")
    sku: str = strawberry.field(description="SKU when the line was added.")
    quantity: int = strawberry.field(description="Units in the cart.")
    quantity_available: int | None = strawberry.field(
        description="Units this cart can still get (other carts' holds excluded); null: no limit."
    )
    unit_price: Money | None = strawberry.field(
        description="Current unit price; null when the line cannot be bought."
    )
    previous_unit_price: Money | None = strawberry.field(
        description="The unit price the shopper saw, when it has changed since; else null."
    )
    undiscounted_total: Money = strawberry.field(description="Unit price times quantity.")
    discount: Money = strawberry.field(description="This line's share of the discounts.")
    tax: Money = strawberry.field(description="Tax in (or on) this line.")
    total: Money = strawberry.field(description="What the line costs, tax included.")
    problems: list[CartProblem] = strawberry.field(description="This line's problems.")
    variant_key: strawberry.Private[int | None]

    @strawberry.field(description="The variant; null once it is deleted or not for sale.")
    async def variant(self, info: Info) -> Variant | None:
        if self.variant_key is None:
            return None
        row = await info.context.loaders.variant.load(self.variant_key)
        return Variant.from_row(row) if row is not None else None

    @classmethod
    def of(cls, line: LineView, currency: str) -> CartLine:
        priced = line.priced
        row = line.row

        def money(amount: int) -> Money:
            return Money.of(amount, currency)

        changed = priced is not None and priced.unit_amount != row.seen_unit_price_amount
        return cls(
            id=global_id("CartLine", row.id),
            product_name=row.product_name,
            variant_name=row.variant_name,
            sku=row.sku,
            quantity=row.quantity,
            quantity_available=line.available,
            unit_price=money(priced.unit_amount) if priced else None,
            previous_unit_price=money(row.seen_unit_price_amount) if changed else None,
            undiscounted_total=money(priced.undiscounted_amount if priced else 0),
            discount=money(priced.discount_amount if priced else 0),
            tax=money(priced.tax_amount if priced else 0),
            total=money(priced.gross_amount if priced else 0),
            problems=[CartProblem.of(problem) for problem in line.problems],
            variant_key=row.variant_id if priced is not None else None,
        )


@strawberry.type(description="What the cart costs.")
class CartCost:
    subtotal_amount: Money = strawberry.field(description="Lines before discounts.")
    discount_amount: Money = strawberry.field(description="All discounts, shipping's included.")
    shipping_amount: Money = strawberry.field(description="Shipping after its discount.")
    tax_amount: Money = strawberry.field(description="Tax on the lines and shipping.")
    total_amount: Money = strawberry.field(description="What the shopper pays.")
    prices_include_tax: bool = strawberry.field(
        description="True when prices are entered gross (tax included)."
    )


@strawberry.type(description="A postal address copied onto a cart.")
class CartAddress:
    first_name: str
    last_name: str
    company: str
    street_address_1: str
    street_address_2: str
    city: str
    postal_code: str
    country_area: str
    country: str = strawberry.field(description="ISO 3166-1 alpha-2 country code.")
    country_name: str = strawberry.field(description="English name of the country.")
    phone: str = strawberry.field(description="E.164, or empty.")

    @classmethod
    def of(cls, values: dict[str, Any] | None) -> CartAddress | None:
        if values is None:
            return None
        country = pycountry.countries.get(alpha_2=values.get("country", ""))
        return cls(
            first_name=values.get("first_name", ""),
            last_name=values.get("last_name", ""),
            company=values.get("company", ""),
            street_address_1=values.get("street_address_1", ""),
            street_address_2=values.get("street_address_2", ""),
            city=values.get("city", ""),
            postal_code=values.get("postal_code", ""),
            country_area=values.get("country_area", ""),
            country=values.get("country", ""),
            country_name=country.name if country else values.get("country", ""),
            phone=values.get("phone", ""),
        )


@strawberry.type(description="A way to deliver this cart, priced for it.")
class CartDeliveryMethod:
    id: relay.GlobalID = strawberry.field(description="The ShippingMethod ID to choose it.")
    name: str
    price: Money = strawberry.field(description="Its price for this cart (0 above free-above).")
    min_days: int | None
    max_days: int | None

    @classmethod
    def of(cls, method: ShippingMethod, goods_amount: int) -> CartDeliveryMethod:
        free = method.free_above_amount is not None and goods_amount >= method.free_above_amount
        return cls(
            id=global_id("ShippingMethod", method.id),
            name=method.name,
            price=Money.of(0 if free else method.price_amount, method.currency),
            min_days=method.min_days,
            max_days=method.max_days,
        )


@strawberry.type(description="A coupon code applied to the cart.")
class CartDiscountCode:
    code: str
    applicable: bool = strawberry.field(description="False when it gives nothing now.")
    problem: ErrorCode | None = strawberry.field(description="Why it does not apply, or null.")
    amount: Money = strawberry.field(description="What it takes off now.")


@strawberry.type(description="A discount applied to the cart (a coupon or an automatic one).")
class CartDiscount:
    name: str
    code: str | None = strawberry.field(description="The coupon code; null when automatic.")
    amount: Money


@strawberry.type(description="A shopper's cart, priced now; its ID is the right to use it.")
class Cart(relay.Node):
    id: relay.NodeID[str]
    email: str = strawberry.field(description="The buyer's email, or empty.")
    created_at: datetime
    updated_at: datetime
    total_quantity: int = strawberry.field(description="Units over all lines.")
    lines: list[CartLine] = strawberry.field(description="The lines, oldest first (capped).")
    cost: CartCost
    shipping_address: CartAddress | None
    billing_address: CartAddress | None
    delivery_method: CartDeliveryMethod | None = strawberry.field(
        description="The chosen method, while it is still available."
    )
    available_delivery_methods: list[CartDeliveryMethod] = strawberry.field(
        description="Methods for the shipping address and weight, cheapest first."
    )
    discount_codes: list[CartDiscountCode]
    discounts: list[CartDiscount]
    problems: list[CartProblem] = strawberry.field(
        description="What is wrong with the cart's lines, coupons or delivery method now."
    )
    checkout_problems: list[CartProblem] = strawberry.field(
        description="Everything checkoutComplete would refuse now, the one it reports first:"
        " the problems, and a missing email, shipping address or delivery method. Empty:"
        " the cart can be completed (stock permitting at that moment)."
    )
    weight_grams: int = strawberry.field(
        description="What the buyable lines weigh, in grams; saturates at 2147483647 (Int)."
    )
    reserved_until: datetime | None = strawberry.field(
        description="Until when the cart's stock is held (after choosing delivery), or null."
    )

    @classmethod
    def of(cls, view: CartView) -> Cart:
        cart, priced, currency = view.cart, view.priced, view.cart.currency

        def money(amount: int) -> Money:
            return Money.of(amount, currency)

        goods = priced.subtotal_amount - sum(line.discount_amount for line in priced.lines)
        return cls(
            id=cart.token,
            email=cart.email,
            created_at=cart.created_at,
            updated_at=cart.updated_at,
            total_quantity=sum(line.row.quantity for line in view.lines),
            lines=[CartLine.of(line, currency) for line in view.lines],
            cost=CartCost(
                subtotal_amount=money(priced.subtotal_amount),
                discount_amount=money(priced.discount_amount),
                shipping_amount=money(priced.shipping_amount),
                tax_amount=money(priced.tax_amount),
                total_amount=money(priced.total_amount),
                prices_include_tax=view.prices_include_tax,
            ),
            shipping_address=CartAddress.of(cart.shipping_address),
            billing_address=CartAddress.of(cart.billing_address),
            delivery_method=CartDeliveryMethod.of(view.delivery_method, goods)
            if view.delivery_method is not None
            else None,
            available_delivery_methods=[
                CartDeliveryMethod.of(method, goods) for method in view.delivery_methods
            ],
            discount_codes=[
                CartDiscountCode(
                    code=coupon.promotion.code or "",
                    applicable=coupon.problem is None,
                    problem=coupon.problem,
                    amount=money(coupon.amount),
                )
                for coupon in view.coupons
            ],
            discounts=[
                CartDiscount(name=applied.name, code=applied.code, amount=money(applied.amount))
                for applied in priced.discounts
            ],
            problems=[CartProblem.of(problem) for problem in view.problems],
            checkout_problems=[
                CartProblem.of(problem)
                for problem in checkout_problems(
                    view, has_email=bool(cart.email) or cart.user_id is not None
                )
            ],
            weight_grams=min(view.weight_grams, MAX_INT),
            reserved_until=view.reserved_until,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]  # never `required`: see resolvers.node
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Cart | None]:
        """The same rule as `cart(id:)`: an anonymous cart for its token's holder, a
        customer's cart for that customer only."""
        user = info.context.user
        found = []
        for node_id in node_ids:
            view = await run_query(
                info,
                queries.find_cart,
                token=node_token(node_id),
                user_id=user.id if user else None,
                settings=info.context.settings,
            )
            found.append(cls.of(view) if view is not None else None)
        return found


def cart_or_none(view: CartView | None) -> Cart | None:
    return Cart.of(view) if view is not None else None
