"""The category tree and tags (staff); renames rebuild the search index of their products."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import CatalogError, ErrorCode
from app.services.catalog.checks import (
    MAX_DESCRIPTION_LENGTH,
    apply_changes,
    claim_row_slug,
    clean_names,
    require_name,
)
from app.services.catalog.search import refresh_category_search, refresh_search
from app.services.checks import UNSET, Cleaner, Unset, clean_text, locked_or_not_found
from app.services.pagination import KeysetQuery, SortKey, load_text
from app.services.public_changes import mark_public_change
from models.catalog import Category, Product, Tag, product_tags

MAX_CATEGORY_NAME_LENGTH = 250
MAX_CATEGORY_SLUG_LENGTH = 255
MAX_TAG_NAME_LENGTH = 100
MAX_TAG_SLUG_LENGTH = 120
# Advisory lock key: moves in the tree are serialised, so two concurrent moves
# (A under B, B under A) cannot both pass the cycle check.
_TREE_LOCK = 7_302


@dataclass(frozen=True)
class CategoryData:
    """Fields of a category; UNSET leaves a field as it is, a None slug is generated."""

    name: str | Unset = UNSET
    slug: str | Unset | None = UNSET
    description: str | Unset | None = UNSET
    parent_id: int | Unset | None = UNSET


@dataclass(frozen=True)
class TagData:
    name: str | Unset = UNSET
    slug: str | Unset | None = UNSET


def _tree_tags(category: Category, *new_parent: int | None) -> list[str]:
    """A category and its parents, old and new: their lists of children change with it."""
    keys = (category.id, category.parent_id, *new_parent)
    return [f"category:{key}" for key in keys if key is not None]


async def create_category(session: AsyncSession, *, data: CategoryData) -> Category:
    """Create a category, at the top or under `parent_id`."""
    clean = await _cleaned_category(session, data, category=None)
    require_name(clean, data.name)
    values = clean.done()
    category = Category(
        name=values["name"],
        description=values.get("description", ""),
        parent_id=values.get("parent_id"),
    )
    category.slug = await _claim_slug(session, category, values.get("slug"))
    session.add(category)
    await session.flush()
    mark_public_change(session, *_tree_tags(category))
    await session.refresh(category)
    return category


async def update_category(
    session: AsyncSession, *, category_id: int, data: CategoryData
) -> Category:
    """Change a category; moving it under itself or a descendant is a CYCLE."""
    if data.parent_id is not UNSET:
        # Taken before any row lock: moves run one at a time, and a move waiting here
        # holds no lock that the running one needs.
        await session.execute(select(func.pg_advisory_xact_lock(_TREE_LOCK)))
    category = await locked_or_not_found(
        session, Category, category_id, field="id", lock="no key update"
    )
    clean = await _cleaned_category(session, data, category=category)
    values = clean.done()
    mark_public_change(session, *_tree_tags(category, values.get("parent_id")))
    renamed = "name" in values and values["name"] != category.name
    await apply_changes(
        session,
        category,
        values,
        columns=("name", "description", "parent_id"),
        slug_given=data.slug is not UNSET,
        max_length=MAX_CATEGORY_SLUG_LENGTH,
        fallback="category",
    )
    if renamed:
        await refresh_category_search(session, category_id=category.id)
    await session.refresh(category)
    return category


async def _claim_slug(session: AsyncSession, category: Category, slug: str | None) -> str:
    return await claim_row_slug(
        session, category, slug, max_length=MAX_CATEGORY_SLUG_LENGTH, fallback="category"
    )


async def _cleaned_category(
    session: AsyncSession, data: CategoryData, *, category: Category | None
) -> Cleaner:
    clean = clean_names(
        data.name,
        data.slug,
        name_length=MAX_CATEGORY_NAME_LENGTH,
        slug_length=MAX_CATEGORY_SLUG_LENGTH,
    )
    if data.description is not UNSET:
        clean.put(
            "description",
            clean_text,
            data.description,
            field="description",
            max_length=MAX_DESCRIPTION_LENGTH,
            multiline=True,
        )
    if data.parent_id is None:
        clean.values["parent_id"] = None
    elif isinstance(data.parent_id, int):
        moving = category is not None and data.parent_id != category.parent_id
        if moving and await _in_subtree(session, root=category, node_id=data.parent_id):
            clean.fail(
                ErrorCode.CYCLE,
                "A category cannot move under itself or its subcategories.",
                field="parentId",
            )
            return clean
        with clean.collect():
            parent = await locked_or_not_found(
                session,
                Category,
                data.parent_id,
                field="parentId",
                message="Parent category not found.",
                lock="key share",
            )
            clean.values["parent_id"] = parent.id
    return clean


async def _in_subtree(session: AsyncSession, *, root: Category | None, node_id: int) -> bool:
    """Whether `node_id` is `root` or one of its descendants (recursive CTE)."""
    if root is None:
        return False
    subtree = select(Category.id).where(Category.id == root.id).cte("subtree", recursive=True)
    # UNION (not UNION ALL) ends the walk even over a cycle that slipped in somehow.
    subtree = subtree.union(select(Category.id).join(subtree, Category.parent_id == subtree.c.id))
    return bool(await session.scalar(select(exists().where(subtree.c.id == node_id))))


async def delete_category(session: AsyncSession, *, category_id: int) -> int:
    """Delete an empty category; NOT_EMPTY while it has products or subcategories."""
    category = await locked_or_not_found(session, Category, category_id, field="id", lock="update")
    mark_public_change(session, *_tree_tags(category))
    if await session.scalar(select(exists().where(Category.parent_id == category_id))):
        raise CatalogError(
            ErrorCode.NOT_EMPTY,
            "Move or delete its subcategories first.",
            field="id",
        )
    if await session.scalar(select(exists().where(Product.category_id == category_id))):
        raise CatalogError(
            ErrorCode.NOT_EMPTY, "Move its products to another category first.", field="id"
        )
    await session.execute(delete(Category).where(Category.id == category_id))
    session.expunge(category)
    return category_id


async def create_tag(session: AsyncSession, *, data: TagData) -> Tag:
    """Create a tag; UNIQUE if an explicit slug is taken."""
    clean = _clean_tag_names(data)
    require_name(clean, data.name)
    values = clean.done()
    tag = Tag(name=values["name"])
    tag.slug = await _claim_tag_slug(session, tag, values.get("slug"))
    session.add(tag)
    await session.flush()
    mark_public_change(session, f"tag:{tag.id}")
    return tag


async def update_tag(session: AsyncSession, *, tag_id: int, data: TagData) -> Tag:
    """Rename a tag or change its slug; its products' search index follows the name."""
    tag = await locked_or_not_found(session, Tag, tag_id, field="id", lock="no key update")
    mark_public_change(session, f"tag:{tag.id}")
    values = _clean_tag_names(data).done()
    renamed = "name" in values and values["name"] != tag.name
    await apply_changes(
        session,
        tag,
        values,
        columns=("name",),
        slug_given=data.slug is not UNSET,
        max_length=MAX_TAG_SLUG_LENGTH,
        fallback="tag",
    )
    if renamed:
        await refresh_search(session, product_ids=await _tagged_products(session, tag.id))
    return tag


def _clean_tag_names(data: TagData) -> Cleaner:
    return clean_names(
        data.name, data.slug, name_length=MAX_TAG_NAME_LENGTH, slug_length=MAX_TAG_SLUG_LENGTH
    )


async def _claim_tag_slug(session: AsyncSession, tag: Tag, slug: str | None) -> str:
    return await claim_row_slug(session, tag, slug, max_length=MAX_TAG_SLUG_LENGTH, fallback="tag")


async def delete_tag(session: AsyncSession, *, tag_id: int) -> int:
    """Delete a tag and take it off its products."""
    tag = await locked_or_not_found(session, Tag, tag_id, field="id", lock="update")
    mark_public_change(session, f"tag:{tag.id}")
    product_ids = await _tagged_products(session, tag_id)
    await session.execute(delete(Tag).where(Tag.id == tag_id))
    session.expunge(tag)
    await refresh_search(session, product_ids=product_ids)
    return tag_id


async def _tagged_products(session: AsyncSession, tag_id: int) -> list[int]:
    rows = await session.scalars(
        select(product_tags.c.product_id).where(product_tags.c.tag_id == tag_id)
    )
    return list(rows.all())


def children_query(*, parent_id: int | None) -> KeysetQuery:
    """Subcategories of `parent_id` (top-level ones for None), by name."""
    parent = Category.parent_id.is_(None) if parent_id is None else Category.parent_id == parent_id
    return KeysetQuery(
        select(Category).where(parent),
        keys=[SortKey(Category.name, load=load_text), SortKey(Category.id)],
        tag="category:name",
    )


def tags_query() -> KeysetQuery:
    """Every tag, by name ignoring case."""
    return KeysetQuery(
        select(Tag),
        keys=[SortKey(func.lower(Tag.name), load=load_text), SortKey(Tag.id)],
        tag="tag:name",
    )
