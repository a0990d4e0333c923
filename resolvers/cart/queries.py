"""Reading a cart: `cart(id:)`, and `me { cart }` through `resolve_my_cart`."""

from __future__ import annotations

import strawberry

from app.services.cart import queries
from resolvers.base import Info, decode_token_id, run_query
from resolvers.cart.types import Cart, cart_or_none


async def resolve_my_cart(info: Info, *, user_id: int) -> Cart | None:
    """The user's open cart; only for the user themself (User.cart delegates here)."""
    viewer = info.context.user
    if viewer is None or viewer.id != user_id:
        return None
    view = await run_query(info, queries.my_cart, user_id=user_id, settings=info.context.settings)
    return cart_or_none(view)


@strawberry.type
class Query:
    @strawberry.field(
        description="A cart by its ID: null when it is missing, completed, or another customer's."
    )
    async def cart(self, info: Info, id: strawberry.ID) -> Cart | None:
        user = info.context.user
        view = await run_query(
            info,
            queries.find_cart,
            token=decode_token_id(id, "Cart"),
            user_id=user.id if user else None,
            settings=info.context.settings,
        )
        return cart_or_none(view)
