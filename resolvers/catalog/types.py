"""GraphQL types of the catalog."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, TypeVar, cast

import strawberry
from graphql import GraphQLObjectType, GraphQLSchema
from strawberry import relay
from strawberry.scalars import JSON

from app.auth.permissions import Perm, has_permission
from app.services.catalog import rows as plain
from models import catalog as models
from resolvers.base import HasPermission, Info, node_keys
from resolvers.connection import Connection
from resolvers.money import Money

T = TypeVar("T")

# What a type is built from: a plain read row (queries, loaders) or the entity a mutation
# wrote; both have the same attribute names.
ProductSource = plain.ProductRow | models.Product
VariantSource = plain.VariantRow | models.Variant
ImageSource = plain.ImageRow | models.ProductImage
CategorySource = plain.CategoryRow | models.Category
TagSource = plain.TagRow | models.Tag

if TYPE_CHECKING:
    from resolvers.catalog.inventory_types import VariantStock
    from resolvers.catalog.reviews import Review


@strawberry.type(description="A product image.")
class Image:
    url: str = strawberry.field(description="Absolute URL of the image.")
    alt: str = strawberry.field(description="Alternative text.")
    sort_order: int = strawberry.field(description="Position in the gallery, ascending.")

    @classmethod
    def from_row(cls, row: ImageSource) -> Image:
        return cls(url=row.url, alt=row.alt, sort_order=row.sort_order)


def can_see_unpublished(info: Info) -> bool:
    return has_permission(info.context.user, Perm.MANAGE_PRODUCTS)


@strawberry.type(description="A free label on products.")
class Tag(relay.Node):
    id: relay.NodeID[int]
    name: str = strawberry.field(description="Display name.")
    slug: str = strawberry.field(description="URL-safe unique name.")

    @classmethod
    def from_row(cls, row: TagSource) -> Tag:
        return cls(id=row.id, name=row.name, slug=row.slug)

    @classmethod
    async def resolve_nodes(  # type: ignore[override]  # never `required`: see resolvers.node
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Tag | None]:
        rows = await info.context.loaders.tag.load_many(node_keys(node_ids))
        return [cls.from_row(row) if row else None for row in rows]


@strawberry.type(description="A node of the category tree.")
class Category(relay.Node):
    id: relay.NodeID[int]
    name: str = strawberry.field(description="Display name.")
    slug: str = strawberry.field(description="URL-safe unique name.")
    description: str = strawberry.field(description="Markdown description.")
    row: strawberry.Private[CategorySource]

    @classmethod
    def from_row(cls, row: CategorySource) -> Category:
        return cls(id=row.id, name=row.name, slug=row.slug, description=row.description, row=row)

    @classmethod
    async def resolve_nodes(  # type: ignore[override]  # never `required`: see resolvers.node
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Category | None]:
        rows = await info.context.loaders.category.load_many(node_keys(node_ids))
        return [cls.from_row(row) if row else None for row in rows]

    @strawberry.field(description="The parent category, null at the top.")
    async def parent(self, info: Info) -> Category | None:
        if self.row.parent_id is None:
            return None
        row = await info.context.loaders.category.load(self.row.parent_id)
        return Category.from_row(row) if row else None

    @strawberry.field(description="Direct subcategories, by name.")
    async def children(self, info: Info) -> list[Category]:
        rows = await info.context.loaders.children_by_category.load(self.row.id)
        return [Category.from_row(row) for row in rows]

    @strawberry.field(description="Products of this category and its descendants.")
    async def products(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Product]:
        from app.services.pagination import PageRequest
        from resolvers.catalog.queries import resolve_products

        page = PageRequest(first=first, after=after, last=last, before=before)
        return await resolve_products(
            info, page=page, filter=None, sort_by=None, category_id=self.row.id
        )

    @strawberry.field(description="From the top of the tree down to the parent.")
    async def ancestors(self, info: Info) -> list[Category]:
        chain: list[Category] = []
        parent_id = self.row.parent_id
        while parent_id is not None and len(chain) < 100:
            row = await info.context.loaders.category.load(parent_id)
            if row is None:
                break
            chain.append(Category.from_row(row))
            parent_id = row.parent_id
        return list(reversed(chain))


@strawberry.type(description="A buyable version of a product, with its own SKU and price.")
class Variant(relay.Node):
    id: relay.NodeID[int]
    sku: str = strawberry.field(description="Stock keeping unit, unique.")
    name: str = strawberry.field(description="e.g. 'M / Red'.")
    price: Money = strawberry.field(description="Current price.")
    compare_at_price: Money | None = strawberry.field(
        description="Former or list price, shown struck through."
    )
    attributes: JSON = strawberry.field(description='Option values, e.g. {"size": "M"}.')
    weight_grams: int | None = strawberry.field(description="Shipping weight in grams.")
    track_inventory: bool = strawberry.field(
        description="False: always available, stock is not counted."
    )
    row: strawberry.Private[VariantSource]

    @classmethod
    def from_row(cls, row: VariantSource) -> Variant:
        return cls(
            id=row.id,
            sku=row.sku,
            name=row.name,
            price=Money.of(row.price_amount, row.currency),
            compare_at_price=(
                Money.of(row.compare_at_amount, row.currency)
                if row.compare_at_amount is not None
                else None
            ),
            attributes=cast(JSON, row.attributes),
            weight_grams=row.weight_grams,
            track_inventory=row.track_inventory,
            row=row,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]  # never `required`: see resolvers.node
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Variant | None]:
        rows = await info.context.loaders.variant.load_many(node_keys(node_ids))
        products = await info.context.loaders.product.load_many(
            [row.product_id if row else 0 for row in rows]
        )
        staff = can_see_unpublished(info)
        return [
            cls.from_row(row) if row and product and (staff or product.is_published) else None
            for row, product in zip(rows, products, strict=True)
        ]

    @strawberry.field(description="Units that can be sold now, over all warehouses.")
    async def quantity_available(self, info: Info) -> int:
        return await info.context.loaders.quantity_by_variant.load(self.row.id)

    @strawberry.field(
        description="Units per warehouse (staff).",
        permission_classes=[HasPermission(Perm.MANAGE_PRODUCTS)],
    )
    async def stocks(
        self, info: Info
    ) -> list[Annotated[VariantStock, strawberry.lazy("resolvers.catalog.inventory_types")]]:
        from resolvers.catalog.inventory_types import VariantStock, Warehouse

        rows = await info.context.loaders.stocks_by_variant.load(self.row.id)
        warehouses = await info.context.loaders.warehouse.load_many(
            [row.warehouse_id for row in rows]
        )
        return [
            VariantStock(warehouse=Warehouse.from_row(warehouse), quantity=row.quantity)
            for row, warehouse in zip(rows, warehouses, strict=True)
            if warehouse is not None
        ]

    @strawberry.field(description="The product this variant belongs to.")
    async def product(self, info: Info) -> Product | None:
        row = await info.context.loaders.product.load(self.row.product_id)
        return Product.from_row(row) if row else None


@strawberry.type(description="A product of the catalog.")
class Product(relay.Node):
    id: relay.NodeID[int]
    name: str = strawberry.field(description="Display name.")
    slug: str = strawberry.field(description="URL-safe unique name.")
    description: str = strawberry.field(description="Markdown description.")
    attributes: JSON = strawberry.field(description='e.g. {"color": "red"}.')
    is_published: bool = strawberry.field(description="Visible to customers.")
    published_at: datetime | None = strawberry.field(description="When it was first published.")
    seo_title: str = strawberry.field(description="Title for search engines.")
    seo_description: str = strawberry.field(description="Description for search engines.")
    rating_average: Decimal | None = strawberry.field(
        description="Mean of visible ratings, two decimals; null without reviews."
    )
    rating_count: int = strawberry.field(description="Number of ratings.")
    created_at: datetime = strawberry.field(description="When it was created.")
    updated_at: datetime = strawberry.field(description="When it last changed.")
    row: strawberry.Private[ProductSource]

    @classmethod
    def from_row(cls, row: ProductSource) -> Product:
        average = (
            (Decimal(row.rating_sum) / row.rating_count).quantize(Decimal("0.01"))
            if row.rating_count
            else None
        )
        return cls(
            id=row.id,
            name=row.name,
            slug=row.slug,
            description=row.description,
            attributes=cast(JSON, row.attributes),
            is_published=row.is_published,
            published_at=row.published_at,
            seo_title=row.seo_title,
            seo_description=row.seo_description,
            rating_average=average,
            rating_count=row.rating_count,
            created_at=row.created_at,
            updated_at=row.updated_at,
            row=row,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]  # never `required`: see resolvers.node
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Product | None]:
        rows = await info.context.loaders.product.load_many(node_keys(node_ids))
        staff = can_see_unpublished(info)
        return [cls.from_row(row) if row and (staff or row.is_published) else None for row in rows]

    # Relations a list resolver loaded in bulk (see `prefetch_relations`): answered
    # synchronously, without a loader await per product. Absent: loaded on demand.
    prefetched: strawberry.Private[dict[str, Any] | None] = None

    def _ready(self, name: str, load: Callable[[], Awaitable[T]]) -> T:
        """The prefetched value, or the awaitable that loads it: Strawberry awaits what a
        field returns when it is awaitable, so the field's type is T either way."""
        if self.prefetched is not None and name in self.prefetched:
            return cast(T, self.prefetched[name])
        return cast(T, load())

    @strawberry.field(description="The product's category.")
    def category(self, info: Info) -> Category | None:
        return self._ready("category", lambda: self._load_category(info))

    async def _load_category(self, info: Info) -> Category | None:
        if self.row.category_id is None:
            return None
        row = await info.context.loaders.category.load(self.row.category_id)
        return Category.from_row(row) if row else None

    @strawberry.field(description="Variants in creation order.")
    def variants(self, info: Info) -> list[Variant]:
        return self._ready("variants", lambda: self._load_variants(info))

    async def _load_variants(self, info: Info) -> list[Variant]:
        rows = await info.context.loaders.variants_by_product.load(self.row.id)
        return [Variant.from_row(row) for row in rows]

    @strawberry.field(description="Images in gallery order.")
    def images(self, info: Info) -> list[Image]:
        return self._ready("images", lambda: self._load_images(info))

    async def _load_images(self, info: Info) -> list[Image]:
        rows = await info.context.loaders.images_by_product.load(self.row.id)
        return [Image.from_row(row) for row in rows]

    @strawberry.field(description="Tags by name.")
    def tags(self, info: Info) -> list[Tag]:
        return self._ready("tags", lambda: self._load_tags(info))

    async def _load_tags(self, info: Info) -> list[Tag]:
        rows = await info.context.loaders.tags_by_product.load(self.row.id)
        return [Tag.from_row(row) for row in rows]

    @strawberry.field(description="Reviews, newest first; hidden ones for staff only.")
    async def reviews(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Annotated[Review, strawberry.lazy("resolvers.catalog.reviews")]]:
        from app.services.pagination import PageRequest
        from resolvers.catalog.reviews import resolve_product_reviews

        page = PageRequest(first=first, after=after, last=last, before=before)
        return await resolve_product_reviews(info, product_id=self.row.id, page=page)


PREFETCHABLE = ("category", "variants", "images", "tags")


async def prefetch_relations(info: Info, products: list[Product], fields: set[str]) -> None:
    """Load the requested relations of a page in bulk (one statement each) and hand them
    to the products as plain values: same statements as the loaders, no await per field."""
    loaders = info.context.loaders
    ids = [product.row.id for product in products]
    wanted = [name for name in PREFETCHABLE if name in fields]
    if not products or not wanted:
        return
    loaded: dict[str, list[Any]] = {}
    if "category" in wanted:
        keys = [product.row.category_id for product in products]
        rows = await loaders.category.load_many([key for key in keys if key is not None])
        by_id = {row.id: Category.from_row(row) for row in rows if row is not None}
        loaded["category"] = [by_id.get(key) if key else None for key in keys]
    if "variants" in wanted:
        variants = await loaders.variants_by_product.load_many(ids)
        loaded["variants"] = [[Variant.from_row(row) for row in rows] for rows in variants]
    if "images" in wanted:
        images = await loaders.images_by_product.load_many(ids)
        loaded["images"] = [[Image.from_row(row) for row in rows] for rows in images]
    if "tags" in wanted:
        tags = await loaders.tags_by_product.load_many(ids)
        loaded["tags"] = [[Tag.from_row(row) for row in rows] for rows in tags]
    for index, product in enumerate(products):
        product.prefetched = {name: values[index] for name, values in loaded.items()}


def answer_prefetched_directly(schema: GraphQLSchema) -> None:
    """Product's prefetched relations without Strawberry's resolver machinery.

    A resolver field costs an Info object, argument parsing and the field-extension chain
    per call, even when it hands back a value already loaded. For a prefetched value the
    GraphQL field's resolve function now returns it first; otherwise (not prefetched: a
    product page, a variant's product) Strawberry's resolver runs as before. Schema
    extensions still wrap this function (graphql-core applies middleware around it).
    """
    product = schema.type_map["Product"]
    assert isinstance(product, GraphQLObjectType)
    for name in PREFETCHABLE:
        field = product.fields[name]
        field.resolve = _prefetched_first(name, field.resolve)


def _prefetched_first(name: str, resolve: Any) -> Callable[..., Any]:
    def resolve_prefetched(source: Any, info: Any, **kwargs: Any) -> Any:
        prefetched = getattr(source, "prefetched", None)
        if prefetched is not None and name in prefetched:
            return prefetched[name]
        return resolve(source, info, **kwargs)

    return resolve_prefetched
