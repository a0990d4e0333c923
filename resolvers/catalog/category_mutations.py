"""Staff mutations of categories and tags (permission MANAGE_PRODUCTS)."""

from __future__ import annotations

from typing import Self

import strawberry
from strawberry import relay

from app.services.catalog import categories
from app.services.catalog.categories import CategoryData, TagData
from models import catalog as models
from resolvers.base import (
    Info,
    UserErrorType,
    decode_id,
    decode_optional_id,
    global_id,
    user_errors_field,
)
from resolvers.catalog.inputs import STAFF, given_key
from resolvers.catalog.types import Category, Tag
from resolvers.inputs import given, given_not_null, run_parsed


@strawberry.input(description="A new category.")
class CategoryCreateInput:
    name: str = strawberry.field(description="Display name, at most 250 characters.")
    slug: str | None = strawberry.field(
        default=None, description="URL name; generated from the name when left out."
    )
    description: str | None = strawberry.field(default=None, description="Markdown.")
    parent_id: strawberry.ID | None = strawberry.field(
        default=None, description="Parent category; null for a top-level one."
    )

    def to_data(self) -> CategoryData:
        return CategoryData(
            name=self.name,
            slug=self.slug,
            description=self.description,
            parent_id=decode_optional_id(self.parent_id, "Category"),
        )


@strawberry.input(description="Changes to a category; fields left out stay as they are.")
class CategoryUpdateInput:
    name: strawberry.Maybe[str | None] = strawberry.field(description="Display name.")
    slug: strawberry.Maybe[str | None] = strawberry.field(
        description="URL name; null generates one from the name."
    )
    description: strawberry.Maybe[str | None] = strawberry.field(description="Markdown.")
    parent_id: strawberry.Maybe[strawberry.ID | None] = strawberry.field(
        description="New parent; null moves it to the top. Not itself or a descendant."
    )

    def to_data(self) -> CategoryData:
        return CategoryData(
            name=given_not_null(self.name, field="name"),
            slug=given(self.slug),
            description=given(self.description),
            parent_id=given_key(self.parent_id, "Category"),
        )


@strawberry.input(description="A new tag.")
class TagCreateInput:
    name: str = strawberry.field(description="Display name, at most 100 characters.")
    slug: str | None = strawberry.field(
        default=None, description="URL name; generated from the name when left out."
    )

    def to_data(self) -> TagData:
        return TagData(name=self.name, slug=self.slug)


@strawberry.input(description="Changes to a tag; fields left out stay as they are.")
class TagUpdateInput:
    name: strawberry.Maybe[str | None] = strawberry.field(description="Display name.")
    slug: strawberry.Maybe[str | None] = strawberry.field(
        description="URL name; null generates one from the name."
    )

    def to_data(self) -> TagData:
        return TagData(name=given_not_null(self.name, field="name"), slug=given(self.slug))


@strawberry.type
class CategoryResult:
    category: Category | None = strawberry.field(default=None, description="The category.")
    user_errors: list[UserErrorType] = user_errors_field()

    @classmethod
    def of(cls, row: models.Category) -> Self:
        return cls(category=Category.from_row(row))


@strawberry.type
class CategoryCreatePayload(CategoryResult):
    pass


@strawberry.type
class CategoryUpdatePayload(CategoryResult):
    pass


@strawberry.type
class CategoryDeletePayload:
    deleted_id: relay.GlobalID | None = strawberry.field(
        default=None, description="ID of the deleted category."
    )
    user_errors: list[UserErrorType] = user_errors_field()


@strawberry.type
class TagResult:
    tag: Tag | None = strawberry.field(default=None, description="The tag.")
    user_errors: list[UserErrorType] = user_errors_field()

    @classmethod
    def of(cls, row: models.Tag) -> Self:
        return cls(tag=Tag.from_row(row))


@strawberry.type
class TagCreatePayload(TagResult):
    pass


@strawberry.type
class TagUpdatePayload(TagResult):
    pass


@strawberry.type
class TagDeletePayload:
    deleted_id: relay.GlobalID | None = strawberry.field(
        default=None, description="ID of the deleted tag."
    )
    user_errors: list[UserErrorType] = user_errors_field()


@strawberry.type
class CategoryMutation:
    @strawberry.mutation(description="Create a category (staff).", permission_classes=STAFF)
    async def category_create(
        self, info: Info, input: CategoryCreateInput
    ) -> CategoryCreatePayload:
        return await run_parsed(
            info,
            CategoryCreatePayload,
            categories.create_category,
            CategoryCreatePayload.of,
            lambda: {"data": input.to_data()},
        )

    @strawberry.mutation(
        description="Rename or move a category; never under itself or a descendant (staff).",
        permission_classes=STAFF,
    )
    async def category_update(
        self, info: Info, id: strawberry.ID, input: CategoryUpdateInput
    ) -> CategoryUpdatePayload:
        return await run_parsed(
            info,
            CategoryUpdatePayload,
            categories.update_category,
            CategoryUpdatePayload.of,
            lambda: {
                "category_id": decode_id(id, "Category"),
                "data": input.to_data(),
            },
        )

    @strawberry.mutation(
        description="Delete a category without products or subcategories (staff).",
        permission_classes=STAFF,
    )
    async def category_delete(self, info: Info, id: strawberry.ID) -> CategoryDeletePayload:
        return await run_parsed(
            info,
            CategoryDeletePayload,
            categories.delete_category,
            lambda key: CategoryDeletePayload(deleted_id=global_id("Category", key)),
            lambda: {"category_id": decode_id(id, "Category")},
        )

    @strawberry.mutation(description="Create a tag (staff).", permission_classes=STAFF)
    async def tag_create(self, info: Info, input: TagCreateInput) -> TagCreatePayload:
        return await run_parsed(
            info,
            TagCreatePayload,
            categories.create_tag,
            TagCreatePayload.of,
            lambda: {"data": input.to_data()},
        )

    @strawberry.mutation(description="Rename a tag (staff).", permission_classes=STAFF)
    async def tag_update(
        self, info: Info, id: strawberry.ID, input: TagUpdateInput
    ) -> TagUpdatePayload:
        return await run_parsed(
            info,
            TagUpdatePayload,
            categories.update_tag,
            TagUpdatePayload.of,
            lambda: {"tag_id": decode_id(id, "Tag"), "data": input.to_data()},
        )

    @strawberry.mutation(
        description="Delete a tag and take it off its products (staff).",
        permission_classes=STAFF,
    )
    async def tag_delete(self, info: Info, id: strawberry.ID) -> TagDeletePayload:
        return await run_parsed(
            info,
            TagDeletePayload,
            categories.delete_tag,
            lambda key: TagDeletePayload(deleted_id=global_id("Tag", key)),
            lambda: {"tag_id": decode_id(id, "Tag")},
        )
