"""Staff category and tag mutations: the tree, cycles, slugs, deletes, search index."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from models.catalog import Category, Product, Tag, product_tags
from tests.catalog import staff_fixtures
from tests.catalog.staff_fixtures import assert_refused, errors_of, gid

# Fixtures of staff_fixtures, made visible to pytest in this module.
customer, mutate, staff, staff_user = (
    staff_fixtures.customer,
    staff_fixtures.mutate,
    staff_fixtures.staff,
    staff_fixtures.staff_user,
)

CATEGORY = "id name slug description parent { name } children { name } ancestors { name }"
CREATE = f"""
mutation($input: CategoryCreateInput!) {{
  categoryCreate(input: $input) {{ category {{ {CATEGORY} }} userErrors {{ field message code }} }}
}}"""
UPDATE = f"""
mutation($id: ID!, $input: CategoryUpdateInput!) {{
  categoryUpdate(id: $id, input: $input) {{
    category {{ {CATEGORY} }} userErrors {{ field message code }}
  }}
}}"""
DELETE = """
mutation($id: ID!) { categoryDelete(id: $id) { deletedId userErrors { field message code } } }
"""
TAG_CREATE = """
mutation($input: TagCreateInput!) {
  tagCreate(input: $input) { tag { id name slug } userErrors { field message code } }
}"""
TAG_UPDATE = """
mutation($id: ID!, $input: TagUpdateInput!) {
  tagUpdate(id: $id, input: $input) { tag { id name slug } userErrors { field message code } }
}"""
TAG_DELETE = """
mutation($id: ID!) { tagDelete(id: $id) { deletedId userErrors { field message code } } }
"""


async def _parent_name(session, category_id: int) -> str | None:
    parent = Category.__table__.alias("parent")
    return await session.scalar(
        select(parent.c.name)
        .select_from(Category.__table__.join(parent, Category.parent_id == parent.c.id))
        .where(Category.id == category_id)
    )


async def test_category_create_top_level_and_child(mutate, count):
    top = await mutate(CREATE, input={"name": "Küche & Bad", "description": "All *rooms*."})
    child = await mutate(
        CREATE, input={"name": "Töpfe", "parentId": top["category"]["id"], "slug": "pots"}
    )

    assert top["userErrors"] == child["userErrors"] == []
    assert top["category"] | {"id": None} == {
        "id": None,
        "name": "Küche & Bad",
        "slug": "kuche-bad",
        "description": "All *rooms*.",
        "parent": None,
        "children": [],
        "ancestors": [],
    }
    assert child["category"]["slug"] == "pots"
    assert child["category"]["parent"] == {"name": "Küche & Bad"}
    assert child["category"]["ancestors"] == [{"name": "Küche & Bad"}]
    assert await count(Category) == 2


async def test_category_slugs_are_unique(mutate, make_category, count):
    await make_category("Shoes")

    generated = await mutate(CREATE, input={"name": "Shoes"})
    explicit = await mutate(CREATE, input={"name": "Other", "slug": "shoes"})

    assert generated["category"]["slug"] == "shoes-2"
    assert errors_of(explicit) == [(["slug"], "UNIQUE")]
    assert await count(Category) == 2


@pytest.mark.parametrize(
    ("overrides", "field", "code"),
    [
        ({"name": ""}, "name", "REQUIRED"),
        ({"name": "C" * 251}, "name", "TOO_LONG"),
        ({"name": "tab\there"}, "name", "INVALID"),
        ({"slug": "Shoes!"}, "slug", "INVALID"),
        ({"slug": "s" * 256}, "slug", "TOO_LONG"),
        ({"description": "d" * 50_001}, "description", "TOO_LONG"),
        ({"parentId": gid("User", 1)}, "parentId", "NOT_FOUND"),
        ({"parentId": gid("Tag", 1)}, "parentId", "NOT_FOUND"),
        ({"parentId": gid("Category", 987654)}, "parentId", "NOT_FOUND"),
    ],
)
async def test_category_create_rejects_bad_input_without_writing(
    mutate, count, overrides, field, code
):
    payload = await mutate(CREATE, input={"name": "Shoes"} | overrides)

    assert payload["category"] is None
    assert errors_of(payload) == [([field], code)]
    assert await count(Category) == 0


@pytest.fixture
async def tree(make_category):
    """a > b > c, and d on its own."""
    a = await make_category("A")
    b = await make_category("B", parent=a)
    c = await make_category("C", parent=b)
    d = await make_category("D")
    return a, b, c, d


@pytest.mark.parametrize(("moved", "under"), [(0, 0), (0, 1), (0, 2), (1, 2), (1, 1)])
async def test_category_cannot_move_under_itself_or_a_descendant(
    mutate, tree, session, moved, under
):
    payload = await mutate(
        UPDATE,
        id=gid("Category", tree[moved].id),
        input={"parentId": gid("Category", tree[under].id), "name": "Renamed"},
    )

    assert payload["category"] is None
    assert errors_of(payload) == [(["parentId"], "CYCLE")]
    names = (await session.scalars(select(Category.name).order_by(Category.name))).all()
    assert names == ["A", "B", "C", "D"]
    assert await _parent_name(session, tree[moved].id) == (None if moved == 0 else "A")


async def test_category_moves_within_the_tree(mutate, tree, session):
    a, b, c, d = tree

    under_d = await mutate(
        UPDATE, id=gid("Category", b.id), input={"parentId": gid("Category", d.id)}
    )
    to_top = await mutate(UPDATE, id=gid("Category", c.id), input={"parentId": None})
    a_under_c = await mutate(
        UPDATE, id=gid("Category", a.id), input={"parentId": gid("Category", c.id)}
    )

    assert under_d["category"]["ancestors"] == [{"name": "D"}]
    assert to_top["category"]["parent"] is None
    assert a_under_c["category"]["ancestors"] == [{"name": "C"}]
    assert await _parent_name(session, b.id) == "D"


async def test_category_update_refuses_bad_ids(mutate, tree, session):
    a = tree[0]

    wrong = await mutate(UPDATE, id=gid("Product", a.id), input={"name": "X"})
    unknown = await mutate(UPDATE, id=gid("Category", 987654), input={"name": "X"})
    bad_parent = await mutate(UPDATE, id=gid("Category", a.id), input={"parentId": gid("User", 1)})

    assert errors_of(wrong) == [(["id"], "NOT_FOUND")]
    assert errors_of(unknown) == [(["id"], "NOT_FOUND")]
    assert errors_of(bad_parent) == [(["parentId"], "NOT_FOUND")]
    names = set((await session.scalars(select(Category.name))).all())
    assert "X" not in names
    assert await _parent_name(session, a.id) is None


async def test_category_rename_rebuilds_its_products_search_index(
    mutate, make_category, make_product, session
):
    category = await make_category("Cakes")
    product = await make_product("Sponge", category=category)

    payload = await mutate(UPDATE, id=gid("Category", category.id), input={"name": "Pâtisserie"})

    assert payload["category"]["slug"] == "cakes"
    vector = await session.scalar(select(Product.search_vector).where(Product.id == product.id))
    assert "'patisserie'" in str(vector)
    assert "'cakes'" not in str(vector)


async def test_category_delete_refuses_a_category_with_children_or_products(
    mutate, tree, make_product, count
):
    a, b, c, d = tree
    await make_product("Mug", category=d)

    with_child = await mutate(DELETE, id=gid("Category", b.id))
    with_product = await mutate(DELETE, id=gid("Category", d.id))
    leaf = await mutate(DELETE, id=gid("Category", c.id))
    unknown = await mutate(DELETE, id=gid("Category", c.id))
    wrong = await mutate(DELETE, id=gid("User", a.id))

    assert errors_of(with_child) == [(["id"], "NOT_EMPTY")]
    assert errors_of(with_product) == [(["id"], "NOT_EMPTY")]
    assert leaf == {"deletedId": gid("Category", c.id), "userErrors": []}
    assert errors_of(unknown) == [(["id"], "NOT_FOUND")]
    assert errors_of(wrong) == [(["id"], "NOT_FOUND")]
    assert await count(Category) == 3


async def test_tag_create_generates_unique_slugs(mutate, make_tag, count):
    await make_tag("Summer Sale")

    generated = await mutate(TAG_CREATE, input={"name": "  Summer   Sale "})
    explicit = await mutate(TAG_CREATE, input={"name": "Other", "slug": "summer-sale"})
    cyrillic = await mutate(TAG_CREATE, input={"name": "Лето"})

    assert generated["tag"]["name"] == "Summer   Sale"
    assert generated["tag"]["slug"] == "summer-sale-2"
    assert errors_of(explicit) == [(["slug"], "UNIQUE")]
    assert cyrillic["tag"]["slug"] == "leto"
    assert await count(Tag) == 3


@pytest.mark.parametrize(
    ("overrides", "field", "code"),
    [
        ({"name": ""}, "name", "REQUIRED"),
        ({"name": "t" * 101}, "name", "TOO_LONG"),
        ({"slug": "t" * 121}, "slug", "TOO_LONG"),
        ({"slug": "Upper"}, "slug", "INVALID"),
    ],
)
async def test_tag_create_rejects_bad_input_without_writing(mutate, count, overrides, field, code):
    payload = await mutate(TAG_CREATE, input={"name": "Sale"} | overrides)

    assert errors_of(payload) == [([field], code)]
    assert await count(Tag) == 0


async def test_tag_rename_and_delete_rebuild_the_search_index(
    mutate, make_tag, make_product, session, count
):
    tag = await make_tag("Sale")
    product = await make_product("Mug", tags=[tag])

    renamed = await mutate(TAG_UPDATE, id=gid("Tag", tag.id), input={"name": "Clearance"})
    text_after_rename = await session.scalar(select(Product.search_text))
    deleted = await mutate(TAG_DELETE, id=gid("Tag", tag.id))
    text_after_delete = await session.scalar(select(Product.search_text))

    assert renamed["tag"] == {"id": gid("Tag", tag.id), "name": "Clearance", "slug": "sale"}
    assert text_after_rename == "mug clearance"
    assert deleted == {"deletedId": gid("Tag", tag.id), "userErrors": []}
    assert text_after_delete.split() == ["mug"]
    assert await count(product_tags) == 0
    assert await count(Product, Product.id == product.id) == 1


async def test_tag_update_slug_rules(mutate, make_tag, session):
    sale, _ = await make_tag("Sale"), await make_tag("New")

    taken = await mutate(TAG_UPDATE, id=gid("Tag", sale.id), input={"slug": "new"})
    regenerated = await mutate(
        TAG_UPDATE, id=gid("Tag", sale.id), input={"name": "New", "slug": None}
    )
    wrong = await mutate(TAG_UPDATE, id=gid("Category", sale.id), input={"name": "X"})

    assert errors_of(taken) == [(["slug"], "UNIQUE")]
    assert regenerated["tag"]["slug"] == "new-2"
    assert errors_of(wrong) == [(["id"], "NOT_FOUND")]
    assert (await session.get_one(Tag, sale.id, populate_existing=True)).name == "New"


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        (CREATE, {"input": {"name": "New"}}),
        (UPDATE, {"input": {"name": "Renamed"}}),
        (DELETE, {}),
        (TAG_CREATE, {"input": {"name": "New"}}),
        (TAG_UPDATE, {"input": {"name": "Renamed"}}),
        (TAG_DELETE, {}),
    ],
)
async def test_category_and_tag_mutations_need_manage_products(
    gql, customer, make_category, make_tag, session, query, variables
):
    category, tag = await make_category("Shoes"), await make_tag("Sale")
    if query in (UPDATE, DELETE):
        variables = variables | {"id": gid("Category", category.id)}
    if query in (TAG_UPDATE, TAG_DELETE):
        variables = variables | {"id": gid("Tag", tag.id)}

    await assert_refused(gql, customer, query, **variables)

    assert (await session.scalars(select(Category.name))).all() == ["Shoes"]
    assert (await session.scalars(select(Tag.name))).all() == ["Sale"]
