"""Inputs of the cart mutations and their service forms."""

from __future__ import annotations

import strawberry

from app.services.cart.common import Caller
from app.services.cart.lines import LineChange, LineInput
from resolvers.base import Info, decode_id, decode_token_id


def caller(info: Info, cart_id: str) -> Caller:
    """The cart token in `cart_id` (a token no cart has when malformed) and who asks."""
    user = info.context.user
    return Caller(token=decode_token_id(cart_id, "Cart"), user_id=user.id if user else None)


@strawberry.input(description="A variant and how many of it to add.")
class CartLineInput:
    variant_id: strawberry.ID = strawberry.field(description="The variant to buy.")
    quantity: int | None = strawberry.field(
        default=1, description="Units to add, 1 to CART_MAX_LINE_QUANTITY (default 1)."
    )

    def to_line(self) -> LineInput:
        return LineInput(variant_id=decode_id(self.variant_id, "Variant"), quantity=self.quantity)


@strawberry.input(description="A new quantity for a line of the cart.")
class CartLineUpdateInput:
    line_id: strawberry.ID = strawberry.field(description="The CartLine ID.")
    quantity: int | None = strawberry.field(
        default=None,
        description="The new quantity (required); 0 removes the line. Setting it accepts "
        "the current price.",
    )

    def to_change(self) -> LineChange:
        return LineChange(line_id=decode_id(self.line_id, "CartLine"), quantity=self.quantity)


@strawberry.input(description="A new cart.")
class CartCreateInput:
    lines: list[CartLineInput] = strawberry.field(
        default_factory=list, description="Lines to start with (at most CART_MAX_LINES)."
    )
    email: str | None = strawberry.field(default=None, description="The buyer's email.")
