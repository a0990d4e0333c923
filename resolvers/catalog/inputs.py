"""Inputs of the staff catalog mutations, and their conversion to service data."""

from __future__ import annotations

import strawberry
from strawberry.scalars import JSON

from app.auth.permissions import Perm
from app.services.catalog.products import ImageData, ProductData
from app.services.catalog.variants import MoneyData, VariantData
from app.services.checks import UNSET, Unset
from resolvers.base import HasPermission, decode_id, decode_optional_id
from resolvers.inputs import Given, given, given_not_null
from resolvers.money import MoneyInput

STAFF = [HasPermission(Perm.MANAGE_PRODUCTS)]


def given_key(value: Given[strawberry.ID | None] | None, type_name: str) -> int | Unset | None:
    """A Maybe ID field: absent is UNSET, null is None, anything else its key."""
    return UNSET if value is None else decode_optional_id(value.value, type_name)


def money_data(value: MoneyInput) -> MoneyData:
    return MoneyData(amount=value.amount, currency=value.currency)


@strawberry.input(description="An image of a product.")
class ImageInput:
    url: str = strawberry.field(description="Absolute http(s) URL, at most 2048 characters.")
    alt: str | None = strawberry.field(default=None, description="Alternative text.")
    sort_order: int | None = strawberry.field(
        default=None, description="Position in the gallery; defaults to the list order."
    )

    def to_data(self) -> ImageData:
        return ImageData(url=self.url, alt=self.alt, sort_order=self.sort_order)


def _images(images: list[ImageInput] | None) -> list[ImageData] | None:
    return None if images is None else [image.to_data() for image in images]


def _tag_keys(values: list[strawberry.ID] | None) -> list[int]:
    return [decode_id(value, "Tag") for value in values or []]


@strawberry.input(description="A new product; it starts unpublished.")
class ProductCreateInput:
    name: str = strawberry.field(description="Display name, at most 250 characters.")
    slug: str | None = strawberry.field(
        default=None, description="URL name; generated from the name when left out."
    )
    description: str | None = strawberry.field(
        default=None, description="Markdown, at most 50,000 characters."
    )
    category_id: strawberry.ID | None = strawberry.field(default=None, description="Category.")
    tag_ids: list[strawberry.ID] | None = strawberry.field(default=None, description="Tags.")
    attributes: JSON | None = strawberry.field(
        default=None, description='Flat attributes, e.g. {"color": "red", "sizes": ["S", "M"]}.'
    )
    images: list[ImageInput] | None = strawberry.field(default=None, description="Gallery.")
    seo_title: str | None = strawberry.field(default=None, description="At most 70 characters.")
    seo_description: str | None = strawberry.field(
        default=None, description="At most 300 characters."
    )

    def to_data(self) -> ProductData:
        return ProductData(
            name=self.name,
            slug=self.slug,
            description=self.description,
            category_id=decode_optional_id(self.category_id, "Category"),
            tag_ids=_tag_keys(self.tag_ids),
            attributes=self.attributes,
            images=_images(self.images),
            seo_title=self.seo_title,
            seo_description=self.seo_description,
        )


@strawberry.input(description="Changes to a product; fields left out stay as they are.")
class ProductUpdateInput:
    name: strawberry.Maybe[str | None] = strawberry.field(description="Display name.")
    slug: strawberry.Maybe[str | None] = strawberry.field(
        description="URL name; null generates one from the name."
    )
    description: strawberry.Maybe[str | None] = strawberry.field(description="Markdown.")
    category_id: strawberry.Maybe[strawberry.ID | None] = strawberry.field(
        description="Category; null removes it."
    )
    tag_ids: strawberry.Maybe[list[strawberry.ID] | None] = strawberry.field(
        description="Replaces all tags."
    )
    attributes: strawberry.Maybe[JSON | None] = strawberry.field(
        description="Replaces all attributes."
    )
    images: strawberry.Maybe[list[ImageInput] | None] = strawberry.field(
        description="Replaces the gallery."
    )
    seo_title: strawberry.Maybe[str | None] = strawberry.field(description="SEO title.")
    seo_description: strawberry.Maybe[str | None] = strawberry.field(description="SEO description.")

    def to_data(self) -> ProductData:
        return ProductData(
            name=given_not_null(self.name, field="name"),
            slug=given(self.slug),
            description=given(self.description),
            category_id=given_key(self.category_id, "Category"),
            tag_ids=UNSET if self.tag_ids is None else _tag_keys(self.tag_ids.value),
            attributes=given(self.attributes),
            images=UNSET if self.images is None else _images(self.images.value),
            seo_title=given(self.seo_title),
            seo_description=given(self.seo_description),
        )


@strawberry.input(description="A new variant of a product.")
class VariantCreateInput:
    product_id: strawberry.ID = strawberry.field(description="The product it belongs to.")
    sku: str = strawberry.field(description="Unique stock keeping unit, no spaces, <= 64.")
    name: str | None = strawberry.field(default=None, description="e.g. 'M / Red'.")
    price: MoneyInput = strawberry.field(description="Price; one currency per product.")
    compare_at_price: MoneyInput | None = strawberry.field(
        default=None, description="Former price, in the price's currency."
    )
    attributes: JSON | None = strawberry.field(default=None, description="Option values.")
    weight_grams: int | None = strawberry.field(
        default=None, description="Shipping weight, 0 to 1,000,000 grams."
    )
    track_inventory: bool = strawberry.field(
        default=True, description="False: always available, stock is not counted."
    )

    def to_data(self) -> VariantData:
        return VariantData(
            sku=self.sku,
            name=self.name,
            price=money_data(self.price),
            compare_at_price=money_data(self.compare_at_price) if self.compare_at_price else None,
            attributes=self.attributes,
            weight_grams=self.weight_grams,
            track_inventory=self.track_inventory,
        )


@strawberry.input(description="Changes to a variant; fields left out stay as they are.")
class VariantUpdateInput:
    sku: strawberry.Maybe[str | None] = strawberry.field(description="Unique stock keeping unit.")
    name: strawberry.Maybe[str | None] = strawberry.field(description="e.g. 'M / Red'.")
    price: strawberry.Maybe[MoneyInput | None] = strawberry.field(description="Price.")
    compare_at_price: strawberry.Maybe[MoneyInput | None] = strawberry.field(
        description="Former price; null removes it."
    )
    attributes: strawberry.Maybe[JSON | None] = strawberry.field(description="Option values.")
    weight_grams: strawberry.Maybe[int | None] = strawberry.field(description="Weight, grams.")
    track_inventory: strawberry.Maybe[bool | None] = strawberry.field(description="Count stock.")

    def to_data(self) -> VariantData:
        compare_at = given(self.compare_at_price)
        price = given_not_null(self.price, field="price")
        return VariantData(
            sku=given_not_null(self.sku, field="sku"),
            name=given(self.name),
            price=UNSET if isinstance(price, Unset) else money_data(price),
            compare_at_price=money_data(compare_at)
            if isinstance(compare_at, MoneyInput)
            else compare_at,
            attributes=given(self.attributes),
            weight_grams=given(self.weight_grams),
            track_inventory=given_not_null(self.track_inventory, field="trackInventory"),
        )
