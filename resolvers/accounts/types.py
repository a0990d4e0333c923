"""GraphQL types of the accounts domain."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import Enum
from operator import attrgetter
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry import relay

from app.auth.permissions import Perm, effective_permissions, has_permission
from models import accounts as models
from resolvers.base import Info, node_keys
from resolvers.connection import Connection

if TYPE_CHECKING:
    from resolvers.accounts.addresses import Address
    from resolvers.cart.types import Cart
    from resolvers.catalog.wishlist import WishlistItem
    from resolvers.orders.queries import MyOrdersFilter
    from resolvers.orders.types import Order

AddressRef = Annotated["Address", strawberry.lazy("resolvers.accounts.addresses")]


@strawberry.enum(description="The kind of account.")
class Role(Enum):
    CUSTOMER = "customer"
    STAFF = "staff"
    ADMIN = "admin"


def can_view_user(viewer: models.User | None, row: models.User) -> bool:
    """A user sees themself; staff with MANAGE_USERS see everyone."""
    return viewer is not None and (viewer.id == row.id or has_permission(viewer, Perm.MANAGE_USERS))


@strawberry.type(description="A customer or staff account.")
class User(relay.Node):
    id: relay.NodeID[int]
    email: str = strawberry.field(description="Sign-in email, lower-cased.")
    first_name: str = strawberry.field(description="Given name.")
    last_name: str = strawberry.field(description="Family name.")
    phone: str = strawberry.field(description="Phone number in E.164 format, or empty.")
    locale: str = strawberry.field(
        description="Preferred language, a lower-case BCP 47 primary language tag."
    )
    is_active: bool = strawberry.field(description="False once the account is deactivated.")
    role: Role = strawberry.field(description="Customer, staff or admin.")
    permissions: list[Perm] = strawberry.field(
        description="Everything this account may do: what the role grants plus extra grants."
    )
    date_joined: datetime = strawberry.field(description="When the account was created.")
    last_login: datetime | None = strawberry.field(description="Last successful sign-in.")
    row: strawberry.Private[models.User]

    @classmethod
    def from_row(cls, row: models.User) -> User:
        return cls(
            id=row.id,
            email=row.email,
            first_name=row.first_name,
            last_name=row.last_name,
            phone=row.phone,
            locale=row.locale,
            is_active=row.is_active,
            role=Role(row.role),
            permissions=sorted(effective_permissions(row), key=attrgetter("value")),
            date_joined=row.created_at,
            last_login=row.last_login_at,
            row=row,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]  # never `required`: see resolvers.node
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[User | None]:
        keys = node_keys(node_ids)
        rows: list[Any] = await info.context.loaders.user.load_many(keys)
        viewer = info.context.user
        return [
            cls.from_row(row) if row is not None and can_view_user(viewer, row) else None
            for row in rows
        ]

    @strawberry.field(description="Saved products, newest first; only on your own account.")
    async def wishlist(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Annotated[WishlistItem, strawberry.lazy("resolvers.catalog.wishlist")]] | None:
        from app.services.pagination import PageRequest
        from resolvers.catalog.wishlist import resolve_wishlist

        page = PageRequest(first=first, after=after, last=last, before=before)
        return await resolve_wishlist(info, user_id=self.row.id, page=page)

    @strawberry.field(
        description="Your orders, newest first, by status and date; only on your own account."
    )
    async def orders(
        self,
        info: Info,
        filter: Annotated[MyOrdersFilter, strawberry.lazy("resolvers.orders.queries")]
        | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Annotated[Order, strawberry.lazy("resolvers.orders.types")]] | None:
        from app.services.pagination import PageRequest
        from resolvers.orders.queries import resolve_orders_of

        viewer = info.context.user
        if viewer is None or viewer.id != self.row.id:
            return None
        page = PageRequest(first=first, after=after, last=last, before=before)
        return await resolve_orders_of(info, user_id=self.row.id, page=page, filter=filter)

    @strawberry.field(description="Your address book, oldest first; only on your own account.")
    async def addresses(self, info: Info) -> list[AddressRef]:
        from resolvers.accounts.addresses import resolve_addresses

        return await resolve_addresses(info, user_id=self.row.id)

    @strawberry.field(description="Your default shipping address; only on your own account.")
    async def default_shipping_address(self, info: Info) -> AddressRef | None:
        from resolvers.accounts.addresses import AddressType, resolve_default_address

        return await resolve_default_address(info, user_id=self.row.id, kind=AddressType.SHIPPING)

    @strawberry.field(description="Your default billing address; only on your own account.")
    async def default_billing_address(self, info: Info) -> AddressRef | None:
        from resolvers.accounts.addresses import AddressType, resolve_default_address

        return await resolve_default_address(info, user_id=self.row.id, kind=AddressType.BILLING)

    @strawberry.field(description="Your open cart, or null; only on your own account.")
    async def cart(
        self, info: Info
    ) -> Annotated[Cart, strawberry.lazy("resolvers.cart.types")] | None:
        from resolvers.cart.queries import resolve_my_cart

        return await resolve_my_cart(info, user_id=self.row.id)
