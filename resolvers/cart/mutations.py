"""Cart mutations (Shopify's Cart API names): each is one service call returning the cart."""

from __future__ import annotations

from typing import Self

import strawberry

from app.services.cart import addresses, buyer, coupons, delivery
from app.services.cart import lines as cart_lines
from app.services.cart.view import CartView
from resolvers.accounts.addresses import AddressInput
from resolvers.base import (
    Info,
    IsAuthenticated,
    UserErrorType,
    decode_id,
    payload_field,
    run_mutation,
    user_errors_field,
)
from resolvers.cart.inputs import CartCreateInput, CartLineInput, CartLineUpdateInput, caller
from resolvers.cart.types import Cart


@strawberry.type
class CartPayload:
    cart: Cart | None = payload_field("The cart after the change; null when nothing was done.")
    user_errors: list[UserErrorType] = user_errors_field()

    @classmethod
    def of(cls, view: CartView) -> Self:
        return cls(cart=Cart.of(view))


@strawberry.type
class CartCreatePayload(CartPayload):
    pass


@strawberry.type
class CartLinesAddPayload(CartPayload):
    pass


@strawberry.type
class CartLinesUpdatePayload(CartPayload):
    pass


@strawberry.type
class CartLinesRemovePayload(CartPayload):
    pass


@strawberry.type
class CartEmailUpdatePayload(CartPayload):
    pass


@strawberry.type
class CartShippingAddressUpdatePayload(CartPayload):
    pass


@strawberry.type
class CartBillingAddressUpdatePayload(CartPayload):
    pass


@strawberry.type
class CartDeliveryMethodUpdatePayload(CartPayload):
    pass


@strawberry.type
class CartCouponApplyPayload(CartPayload):
    pass


@strawberry.type
class CartCouponRemovePayload(CartPayload):
    pass


@strawberry.type
class CartBuyerUpdatePayload(CartPayload):
    pass


CartID = strawberry.argument(description="The cart's ID (holding it is the right to use it).")


async def _address(
    info: Info,
    payload: type[CartPayload],
    kind: addresses.CartAddressKind,
    cart_id: str,
    address: AddressInput | None,
    address_id: strawberry.ID | None,
) -> CartPayload:
    return await run_mutation(
        info,
        payload,
        addresses.set_address,
        payload.of,
        caller=caller(info, cart_id),
        kind=kind,
        address=address.to_data() if address is not None else None,
        address_id=decode_id(address_id, "Address") if address_id is not None else None,
        settings=info.context.settings,
    )


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Create a cart. Signed in, the cart is yours; if you already have an open "
        "cart the lines are merged into it and that cart is returned. Its currency is the "
        "first line's."
    )
    async def cart_create(
        self, info: Info, input: CartCreateInput | None = None
    ) -> CartCreatePayload:
        given = input or CartCreateInput()
        user = info.context.user
        return await run_mutation(
            info,
            CartCreatePayload,
            cart_lines.create_cart,
            CartCreatePayload.of,
            user_id=user.id if user else None,
            lines=[line.to_line() for line in given.lines],
            email=given.email,
            settings=info.context.settings,
        )

    @strawberry.mutation(
        description="Add lines; a variant already in the cart adds to its line's quantity."
    )
    async def cart_lines_add(
        self, info: Info, cart_id: strawberry.ID, lines: list[CartLineInput]
    ) -> CartLinesAddPayload:
        return await run_mutation(
            info,
            CartLinesAddPayload,
            cart_lines.add_to_cart,
            CartLinesAddPayload.of,
            caller=caller(info, cart_id),
            lines=[line.to_line() for line in lines],
            settings=info.context.settings,
        )

    @strawberry.mutation(
        description="Set line quantities (0 removes a line); setting a quantity accepts the "
        "line's current price (clears PRICE_CHANGED)."
    )
    async def cart_lines_update(
        self, info: Info, cart_id: strawberry.ID, lines: list[CartLineUpdateInput]
    ) -> CartLinesUpdatePayload:
        return await run_mutation(
            info,
            CartLinesUpdatePayload,
            cart_lines.update_lines,
            CartLinesUpdatePayload.of,
            caller=caller(info, cart_id),
            lines=[line.to_change() for line in lines],
            settings=info.context.settings,
        )

    @strawberry.mutation(description="Remove lines; all of them or, on an error, none.")
    async def cart_lines_remove(
        self, info: Info, cart_id: strawberry.ID, line_ids: list[strawberry.ID]
    ) -> CartLinesRemovePayload:
        return await run_mutation(
            info,
            CartLinesRemovePayload,
            cart_lines.remove_lines,
            CartLinesRemovePayload.of,
            caller=caller(info, cart_id),
            line_ids=[decode_id(key, "CartLine") for key in line_ids],
            settings=info.context.settings,
        )

    @strawberry.mutation(description="Set the buyer's email.")
    async def cart_email_update(
        self, info: Info, cart_id: strawberry.ID, email: str
    ) -> CartEmailUpdatePayload:
        return await run_mutation(
            info,
            CartEmailUpdatePayload,
            buyer.update_email,
            CartEmailUpdatePayload.of,
            caller=caller(info, cart_id),
            email=email,
            settings=info.context.settings,
        )

    @strawberry.mutation(
        description="Set the shipping address: give exactly one of `address` and "
        "`addressId` (one of your own saved addresses)."
    )
    async def cart_shipping_address_update(
        self,
        info: Info,
        cart_id: strawberry.ID,
        address: AddressInput | None = None,
        address_id: strawberry.ID | None = None,
    ) -> CartShippingAddressUpdatePayload:
        kind = addresses.CartAddressKind.SHIPPING
        result = await _address(
            info, CartShippingAddressUpdatePayload, kind, cart_id, address, address_id
        )
        assert isinstance(result, CartShippingAddressUpdatePayload)
        return result

    @strawberry.mutation(
        description="Set the billing address: give exactly one of `address` and `addressId`."
    )
    async def cart_billing_address_update(
        self,
        info: Info,
        cart_id: strawberry.ID,
        address: AddressInput | None = None,
        address_id: strawberry.ID | None = None,
    ) -> CartBillingAddressUpdatePayload:
        kind = addresses.CartAddressKind.BILLING
        result = await _address(
            info, CartBillingAddressUpdatePayload, kind, cart_id, address, address_id
        )
        assert isinstance(result, CartBillingAddressUpdatePayload)
        return result

    @strawberry.mutation(
        description="Choose a delivery method (one of `availableDeliveryMethods`); the cart's "
        "stock is then held for STOCK_RESERVATION_MINUTES."
    )
    async def cart_delivery_method_update(
        self, info: Info, cart_id: strawberry.ID, delivery_method_id: strawberry.ID
    ) -> CartDeliveryMethodUpdatePayload:
        return await run_mutation(
            info,
            CartDeliveryMethodUpdatePayload,
            delivery.set_delivery_method,
            CartDeliveryMethodUpdatePayload.of,
            caller=caller(info, cart_id),
            method_id=decode_id(delivery_method_id, "ShippingMethod"),
            settings=info.context.settings,
        )

    @strawberry.mutation(description="Apply a coupon code; applying it again changes nothing.")
    async def cart_coupon_apply(
        self, info: Info, cart_id: strawberry.ID, code: str
    ) -> CartCouponApplyPayload:
        return await run_mutation(
            info,
            CartCouponApplyPayload,
            coupons.apply_coupon,
            CartCouponApplyPayload.of,
            caller=caller(info, cart_id),
            code=code,
            settings=info.context.settings,
        )

    @strawberry.mutation(description="Remove a coupon code from the cart.")
    async def cart_coupon_remove(
        self, info: Info, cart_id: strawberry.ID, code: str
    ) -> CartCouponRemovePayload:
        return await run_mutation(
            info,
            CartCouponRemovePayload,
            coupons.remove_coupon,
            CartCouponRemovePayload.of,
            caller=caller(info, cart_id),
            code=code,
            settings=info.context.settings,
        )

    @strawberry.mutation(
        description="Make an anonymous cart yours (sign in first). If you already have an "
        "open cart, its lines are merged into yours (quantities add, capped by stock and "
        "CART_MAX_LINE_QUANTITY), that cart is returned and the anonymous one is deleted.",
        permission_classes=[IsAuthenticated],
    )
    async def cart_buyer_update(self, info: Info, cart_id: strawberry.ID) -> CartBuyerUpdatePayload:
        return await run_mutation(
            info,
            CartBuyerUpdatePayload,
            buyer.update_buyer,
            CartBuyerUpdatePayload.of,
            caller=caller(info, cart_id),
            settings=info.context.settings,
        )
