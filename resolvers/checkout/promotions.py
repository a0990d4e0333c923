"""Staff API of promotions: coupons and automatic discounts (permission MANAGE_DISCOUNTS)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Self

import strawberry
from strawberry import relay

from app.money import MoneyData
from app.services.checkout import promotions
from app.services.checkout.promotion_rules import PromotionData, PromotionKind
from app.services.checks import UNSET, Unset
from app.services.pagination import PageRequest
from models import promotions as models
from resolvers.base import (
    Info,
    UserErrorType,
    decode_id,
    decode_ids,
    global_id,
    payload_field,
    user_errors_field,
)
from resolvers.checkout.types import DISCOUNTS, Promotion
from resolvers.connection import Connection, keyset_connection
from resolvers.inputs import Given, given, given_not_null, run_parsed
from resolvers.money import MoneyInput


def _keys(values: list[strawberry.ID] | None, type_name: str, field: str) -> list[int] | None:
    return None if values is None else decode_ids(values, type_name, field=field)


def _given_keys(
    value: Given[list[strawberry.ID] | None] | None, type_name: str, field: str
) -> list[int] | Unset | None:
    return UNSET if value is None else _keys(value.value, type_name, field)


def _given_money(value: Given[MoneyInput | None] | None) -> MoneyData | Unset | None:
    money = given(value)
    return money.to_data() if isinstance(money, MoneyInput) else money


@strawberry.input(description="A new promotion: a coupon with a code, or automatic without.")
class PromotionCreateInput:
    name: str = strawberry.field(description="Shown to shoppers, at most 250 characters.")
    code: str | None = strawberry.field(
        default=None, description="Coupon code: 1-64 of A-Z 0-9 - _ (any case); none: automatic."
    )
    kind: PromotionKind = strawberry.field(description="What it takes off.")
    percentage: Decimal | None = strawberry.field(
        default=None, description="PERCENTAGE: more than 0, at most 100, two decimal places."
    )
    amount: MoneyInput | None = strawberry.field(default=None, description="FIXED: amount off.")
    min_subtotal: MoneyInput | None = strawberry.field(
        default=None, description="Applies from this subtotal, in the amount's currency."
    )
    starts_at: datetime | None = strawberry.field(
        default=None, description="Usable from (with a time zone)."
    )
    ends_at: datetime | None = strawberry.field(
        default=None, description="Usable until (with a time zone), after startsAt."
    )
    usage_limit: int | None = strawberry.field(default=None, description="Most orders, >= 1.")
    per_customer_limit: int | None = strawberry.field(
        default=None, description="Most orders per customer, >= 1."
    )
    stackable: bool = strawberry.field(default=False, description="Combines with others.")
    is_active: bool = strawberry.field(default=True, description="Switched on.")
    product_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Limit it to these products (and the categories)."
    )
    category_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Limit it to these categories and their subcategories."
    )

    def to_data(self) -> PromotionData:
        return PromotionData(
            name=self.name,
            code=self.code,
            kind=self.kind,
            percentage=self.percentage,
            amount=self.amount.to_data() if self.amount else None,
            min_subtotal=self.min_subtotal.to_data() if self.min_subtotal else None,
            starts_at=self.starts_at,
            ends_at=self.ends_at,
            usage_limit=self.usage_limit,
            per_customer_limit=self.per_customer_limit,
            stackable=self.stackable,
            is_active=self.is_active,
            product_ids=_keys(self.product_ids, "Product", "productIds"),
            category_ids=_keys(self.category_ids, "Category", "categoryIds"),
        )


@strawberry.input(description="Changes to a promotion; fields left out stay as they are.")
class PromotionUpdateInput:
    name: strawberry.Maybe[str | None] = strawberry.field(description="Name.")
    code: strawberry.Maybe[str | None] = strawberry.field(description="Code; null: automatic.")
    kind: strawberry.Maybe[PromotionKind | None] = strawberry.field(description="Kind.")
    percentage: strawberry.Maybe[Decimal | None] = strawberry.field(description="Percent.")
    amount: strawberry.Maybe[MoneyInput | None] = strawberry.field(description="Amount off.")
    min_subtotal: strawberry.Maybe[MoneyInput | None] = strawberry.field(
        description="Minimum subtotal; null: none."
    )
    starts_at: strawberry.Maybe[datetime | None] = strawberry.field(description="null: now.")
    ends_at: strawberry.Maybe[datetime | None] = strawberry.field(description="null: no end.")
    usage_limit: strawberry.Maybe[int | None] = strawberry.field(description="null: no limit.")
    per_customer_limit: strawberry.Maybe[int | None] = strawberry.field(
        description="null: no limit."
    )
    stackable: strawberry.Maybe[bool | None] = strawberry.field(description="Combines.")
    is_active: strawberry.Maybe[bool | None] = strawberry.field(description="Switched on.")
    product_ids: strawberry.Maybe[list[strawberry.ID] | None] = strawberry.field(
        description="Replaces the products; null or []: none."
    )
    category_ids: strawberry.Maybe[list[strawberry.ID] | None] = strawberry.field(
        description="Replaces the categories; null or []: none."
    )

    def to_data(self) -> PromotionData:
        return PromotionData(
            name=given_not_null(self.name, field="name"),
            code=given(self.code),
            kind=given_not_null(self.kind, field="kind"),
            percentage=given(self.percentage),
            amount=_given_money(self.amount),
            min_subtotal=_given_money(self.min_subtotal),
            starts_at=given(self.starts_at),
            ends_at=given(self.ends_at),
            usage_limit=given(self.usage_limit),
            per_customer_limit=given(self.per_customer_limit),
            stackable=given_not_null(self.stackable, field="stackable"),
            is_active=given_not_null(self.is_active, field="isActive"),
            product_ids=_given_keys(self.product_ids, "Product", "productIds"),
            category_ids=_given_keys(self.category_ids, "Category", "categoryIds"),
        )


@strawberry.input(description="Which promotions to list.")
class PromotionFilterInput:
    code: str | None = strawberry.field(default=None, description="This coupon code (any case).")
    active: bool | None = strawberry.field(
        default=None,
        description="true: usable now (switched on, within its dates, uses left); false: not.",
    )


@strawberry.type
class PromotionResult:
    promotion: Promotion | None = payload_field("The promotion.")
    user_errors: list[UserErrorType] = user_errors_field()

    @classmethod
    def of(cls, row: models.Promotion) -> Self:
        return cls(promotion=Promotion.from_row(row))


@strawberry.type
class PromotionCreatePayload(PromotionResult):
    pass


@strawberry.type
class PromotionUpdatePayload(PromotionResult):
    pass


@strawberry.type
class PromotionDeletePayload:
    deleted_id: relay.GlobalID | None = payload_field("ID of the deleted promotion.")
    user_errors: list[UserErrorType] = user_errors_field()


@strawberry.type
class Query:
    @strawberry.field(description="Promotions, newest first (staff).", permission_classes=DISCOUNTS)
    async def promotions(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        filter: PromotionFilterInput | None = None,
    ) -> Connection[Promotion]:
        wanted = filter or PromotionFilterInput()
        return await keyset_connection(
            info,
            promotions.promotions_query(code=wanted.code, active=wanted.active),
            page=PageRequest(first=first, after=after, last=last, before=before),
            node=Promotion.from_row,
        )

    @strawberry.field(description="A promotion by ID (staff).", permission_classes=DISCOUNTS)
    async def promotion(self, info: Info, id: strawberry.ID) -> Promotion | None:
        row = await info.context.loaders.promotion.load(decode_id(id, "Promotion"))
        return Promotion.from_row(row) if row else None


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Create a promotion (staff).", permission_classes=DISCOUNTS)
    async def promotion_create(
        self, info: Info, input: PromotionCreateInput
    ) -> PromotionCreatePayload:
        return await run_parsed(
            info,
            PromotionCreatePayload,
            promotions.create_promotion,
            PromotionCreatePayload.of,
            lambda: {"data": input.to_data()},
        )

    @strawberry.mutation(description="Change a promotion (staff).", permission_classes=DISCOUNTS)
    async def promotion_update(
        self, info: Info, id: strawberry.ID, input: PromotionUpdateInput
    ) -> PromotionUpdatePayload:
        return await run_parsed(
            info,
            PromotionUpdatePayload,
            promotions.update_promotion,
            PromotionUpdatePayload.of,
            lambda: {"promotion_id": decode_id(id, "Promotion"), "data": input.to_data()},
        )

    @strawberry.mutation(
        description="Delete a promotion; orders keep the discounts they got (staff).",
        permission_classes=DISCOUNTS,
    )
    async def promotion_delete(self, info: Info, id: strawberry.ID) -> PromotionDeletePayload:
        return await run_parsed(
            info,
            PromotionDeletePayload,
            promotions.delete_promotion,
            lambda key: PromotionDeletePayload(deleted_id=global_id("Promotion", key)),
            lambda: {"promotion_id": decode_id(id, "Promotion")},
        )
