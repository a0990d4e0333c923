"""Every wrong global ID means exactly what the ID of a missing object means, everywhere:
the same userErrors (NOT_FOUND on the input field) and nothing written in mutations, null
or nothing matched in queries."""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from tests import api_world
from tests.api_world import World, snapshot

world, make_category, make_product, make_tag = (
    api_world.world,
    api_world.make_category,
    api_world.make_product,
    api_world.make_tag,
)
MISSING_KEY = 987_654_321
ERRORS = "userErrors { field message code }"


def b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8", "surrogatepass")).decode()


def missing_id(type_name: str) -> str:
    return b64(f"{type_name}:{MISSING_KEY}")


def wrong_ids(type_name: str, key: int, *, other_type: bool = True) -> list[str]:
    """IDs that must name nothing as a `type_name`, built around the key of one that exists.

    With `other_type`, also the ID of another type with the same digits (which `node` may
    rightly resolve to that other object).
    """
    other = "Tag" if type_name != "Tag" else "Product"
    return [
        "",
        "garbage",
        "not-base64!",
        f"{type_name}:{key}",  # not base64 at all
        b64(type_name),
        b64(f"{type_name}:"),
        b64(f":{key}"),
        b64(f"Nope:{key}"),  # an unknown type
        b64(f"Money:{key}"),  # a type that is not a Node
        b64(f"Node:{key}"),  # the interface itself
        *([b64(f"{other}:{key}")] if other_type else []),  # another type, the same digits
        b64(f"{type_name.lower()}:{key}"),
        b64(f"{type_name}:{'9' * 3000}"),
        b64(f"{type_name}:\u0661"),  # ARABIC-INDIC DIGIT ONE
        b64(f"{type_name}:{key}\u0660"),
        b64(f"{type_name}:0"),
        b64(f"{type_name}:-{key}"),
        b64(f"{type_name}:{2**63}"),
        b64(f"{type_name}:{2**64 + key}"),
        b64(f"{type_name}:0{key}"),  # not the canonical form
        b64(f"{type_name}:+{key}"),
        b64(f"{type_name}: {key}"),
        b64(f"{type_name}:{key}\n"),
        b64(f"{type_name}:{key}\x00"),
        b64(f"{type_name}:\udc80{key}"),  # a lone surrogate inside
        b64(f"{type_name}:{key}:{key}"),
        b64(f"{type_name}:{key}.0"),
        " " + b64(f"{type_name}:{key}"),
        b64(f"{type_name}:{key}") + "!",
        "A" * 10_000,
    ]


def sample_of_wrong_ids(type_name: str, key: int) -> list[str]:
    """One wrong ID of each family, for the many mutation inputs (`node` takes them all)."""
    every = wrong_ids(type_name, key)
    return [every[index] for index in (0, 1, 3, 7, 8, 10, 13, 15, 16, 17, 19, 23, 24, 29)]


@dataclass(frozen=True)
class IdInput:
    """One ID input of a mutation: the document, who calls it, and the expected error field."""

    name: str
    client: str
    document: str
    type_name: str
    field: str
    variables: Callable[[World], dict[str, Any]] = lambda world: {}
    works_with_the_real_id: bool = True


def _m(body: str) -> str:
    other = ", $other: ID!" if "$other" in body else ""
    return f"mutation($id: ID!{other}) {{ {body} {{ {ERRORS} }} }}"


STOCK = ', reason: "Count"'
ID_INPUTS = [
    IdInput("productUpdate.id", "admin", _m('productUpdate(id: $id, input: {name: "X"})'),
            "Product", "id"),
    IdInput("productPublish.id", "admin", _m("productPublish(id: $id)"), "Product", "id"),
    IdInput("productUnpublish.id", "admin", _m("productUnpublish(id: $id)"), "Product", "id"),
    IdInput("productDelete.id", "admin", _m("productDelete(id: $id)"), "Product", "id"),
    IdInput("productCreate.categoryId", "admin",
            _m('productCreate(input: {name: "New", categoryId: $id})'), "Category", "categoryId"),
    IdInput("productCreate.tagIds", "admin",
            _m('productCreate(input: {name: "New", tagIds: [$other, $id]})'), "Tag", "tagIds",
            lambda w: {"other": w.ids["Tag"]}),
    IdInput("productUpdate.categoryId", "admin",
            _m("productUpdate(id: $other, input: {categoryId: $id})"), "Category", "categoryId",
            lambda w: {"other": w.ids["Product"]}),
    IdInput("variantCreate.productId", "admin",
            _m('variantCreate(input: {productId: $id, sku: "NEW-1", '
               'price: {amount: "1", currency: "USD"}})'), "Product", "productId"),
    IdInput("variantUpdate.id", "admin", _m('variantUpdate(id: $id, input: {name: "X"})'),
            "Variant", "id"),
    IdInput("variantDelete.id", "admin", _m("variantDelete(id: $id)"), "Variant", "id"),
    IdInput("categoryCreate.parentId", "admin",
            _m('categoryCreate(input: {name: "New", parentId: $id})'), "Category", "parentId"),
    IdInput("categoryUpdate.id", "admin", _m('categoryUpdate(id: $id, input: {name: "X"})'),
            "Category", "id"),
    IdInput("categoryUpdate.parentId", "admin",
            _m("categoryUpdate(id: $other, input: {parentId: $id})"), "Category", "parentId",
            lambda w: {"other": w.ids["Category"]}, works_with_the_real_id=False),  # a CYCLE
    IdInput("categoryDelete.id", "admin", _m("categoryDelete(id: $id)"), "Category", "id",
            works_with_the_real_id=False),  # NOT_EMPTY: it holds the product
    IdInput("tagUpdate.id", "admin", _m('tagUpdate(id: $id, input: {name: "X"})'), "Tag", "id"),
    IdInput("tagDelete.id", "admin", _m("tagDelete(id: $id)"), "Tag", "id"),
    IdInput("warehouseUpdate.id", "admin", _m('warehouseUpdate(id: $id, input: {name: "X"})'),
            "Warehouse", "id"),
    IdInput("warehouseDelete.id", "admin", _m("warehouseDelete(id: $id)"), "Warehouse", "id",
            works_with_the_real_id=False),  # the default warehouse stays
    IdInput("stockSet.variantId", "admin", _m(f"stockSet(variantId: $id, quantity: 3{STOCK})"),
            "Variant", "variantId"),
    IdInput("stockSet.warehouseId", "admin",
            _m(f"stockSet(variantId: $other, warehouseId: $id, quantity: 3{STOCK})"),
            "Warehouse", "warehouseId", lambda w: {"other": w.ids["Variant"]}),
    IdInput("stockAdjust.variantId", "admin", _m(f"stockAdjust(variantId: $id, delta: 1{STOCK})"),
            "Variant", "variantId"),
    IdInput("stockBulkUpdate.items.variantId", "admin",
            _m(f"stockBulkUpdate(items: [{{variantId: $id, quantity: 3}}]{STOCK})"),
            "Variant", "items"),
    IdInput("stockBulkUpdate.items.warehouseId", "admin",
            _m("stockBulkUpdate(items: [{variantId: $other, warehouseId: $id, quantity: 3}]"
               f"{STOCK})"), "Warehouse", "items", lambda w: {"other": w.ids["Variant"]}),
    IdInput("reviewCreate.productId", "admin",
            _m("reviewCreate(input: {productId: $id, rating: 5})"), "Product", "productId"),
    IdInput("reviewUpdate.id", "customer", _m("reviewUpdate(id: $id, input: {rating: 1})"),
            "Review", "id"),
    IdInput("reviewDelete.id", "customer", _m("reviewDelete(id: $id)"), "Review", "id"),
    IdInput("reviewHide.id", "admin", _m("reviewHide(id: $id)"), "Review", "id"),
    IdInput("reviewUnhide.id", "admin", _m("reviewUnhide(id: $id)"), "Review", "id"),
    IdInput("wishlistAddProduct.productId", "customer", _m("wishlistAddProduct(productId: $id)"),
            "Product", "productId"),
    IdInput("wishlistAddProduct.variantId", "customer",
            _m("wishlistAddProduct(productId: $other, variantId: $id)"), "Variant", "variantId",
            lambda w: {"other": w.ids["Product"]}),
    IdInput("wishlistRemove.itemId", "customer", _m("wishlistRemove(itemId: $id)"),
            "WishlistItem", "itemId"),
    IdInput("wishlistRemove.productId", "customer", _m("wishlistRemove(productId: $id)"),
            "Product", "productId"),
    IdInput("addressUpdate.id", "customer", _m('addressUpdate(id: $id, input: {city: "Bonn"})'),
            "Address", "id"),
    IdInput("addressDelete.id", "customer", _m("addressDelete(id: $id)"), "Address", "id"),
    IdInput("addressSetDefault.id", "customer", _m("addressSetDefault(id: $id, type: BILLING)"),
            "Address", "id"),
    IdInput("userUpdateAccess.id", "admin",
            _m("userUpdateAccess(id: $id, input: {role: CUSTOMER})"), "User", "id"),
    IdInput("userDeactivate.id", "admin", _m("userDeactivate(id: $id)"), "User", "id"),
    IdInput("userActivate.id", "admin", _m("userActivate(id: $id)"), "User", "id"),
    IdInput("notificationRetry.id", "admin", _m("notificationRetry(id: $id)"), "Notification",
            "id"),
    IdInput("shippingZoneUpdate.id", "admin",
            _m('shippingZoneUpdate(id: $id, input: {name: "X"})'), "ShippingZone", "id"),
    IdInput("shippingZoneDelete.id", "admin", _m("shippingZoneDelete(id: $id)"), "ShippingZone",
            "id"),
    IdInput("shippingMethodCreate.zoneId", "admin",
            _m('shippingMethodCreate(input: {zoneId: $id, name: "New", '
               'price: {amount: "1", currency: "EUR"}})'), "ShippingZone", "zoneId"),
    IdInput("shippingMethodUpdate.id", "admin",
            _m('shippingMethodUpdate(id: $id, input: {name: "X"})'), "ShippingMethod", "id"),
    IdInput("shippingMethodDelete.id", "admin", _m("shippingMethodDelete(id: $id)"),
            "ShippingMethod", "id"),
    IdInput("taxRateUpdate.id", "admin", _m('taxRateUpdate(id: $id, input: {rate: "7"})'),
            "TaxRate", "id"),
    IdInput("taxRateDelete.id", "admin", _m("taxRateDelete(id: $id)"), "TaxRate", "id"),
    IdInput("promotionUpdate.id", "admin", _m('promotionUpdate(id: $id, input: {name: "X"})'),
            "Promotion", "id"),
    IdInput("promotionDelete.id", "admin", _m("promotionDelete(id: $id)"), "Promotion", "id"),
    IdInput("promotionCreate.productIds", "admin",
            _m('promotionCreate(input: {name: "New", kind: PERCENTAGE, percentage: "5", '
               "productIds: [$id]})"), "Product", "productIds"),
    IdInput("promotionCreate.categoryIds", "admin",
            _m('promotionCreate(input: {name: "New", kind: PERCENTAGE, percentage: "5", '
               "categoryIds: [$id]})"), "Category", "categoryIds"),
    IdInput("promotionUpdate.productIds", "admin",
            _m("promotionUpdate(id: $other, input: {productIds: [$id]})"), "Product",
            "productIds", lambda w: {"other": w.ids["Promotion"]}),
]  # fmt: skip


def _payload(data: dict[str, Any]) -> dict[str, Any]:
    (payload,) = data.values()
    return payload


@pytest.mark.parametrize("id_input", ID_INPUTS, ids=[item.name for item in ID_INPUTS])
async def test_a_wrong_id_in_a_mutation_is_the_missing_objects_not_found(
    world, session_factory, id_input
):
    client = world.client(id_input.client)
    variables = id_input.variables(world)
    before = await snapshot(session_factory)

    missing = _payload(
        await client.execute(id_input.document, id=missing_id(id_input.type_name), **variables)
    )
    answers = {
        wrong: _payload(await client.execute(id_input.document, id=wrong, **variables))
        for wrong in sample_of_wrong_ids(id_input.type_name, world.keys[id_input.type_name])
    }

    assert [(e["field"], e["code"]) for e in missing["userErrors"]] == [
        ([id_input.field], "NOT_FOUND")
    ]
    assert {wrong: answer for wrong, answer in answers.items() if answer != missing} == {}
    assert await snapshot(session_factory) == before
    if id_input.works_with_the_real_id:  # the ID was the only thing wrong
        real = await client.execute(
            id_input.document, id=world.ids[id_input.type_name], **variables
        )
        assert _payload(real)["userErrors"] == []


# Who may see each node type, for the query tests.
VIEWERS = {
    "Product": "anonymous",
    "Variant": "anonymous",
    "Category": "anonymous",
    "Tag": "anonymous",
    "Review": "anonymous",
    "Warehouse": "admin",
    "Notification": "admin",
    "User": "customer",
    "Address": "customer",
    "WishlistItem": "customer",
    "ShippingZone": "admin",
    "ShippingMethod": "admin",
    "TaxRate": "admin",
    "Promotion": "admin",
}
NODE = "query($id: ID!) { node(id: $id) { id } }"
NODES = "query($ids: [ID!]!) { nodes(ids: $ids) { id } }"


async def test_node_answers_null_for_every_wrong_id_of_every_type(world):
    for type_name, viewer in VIEWERS.items():
        client = world.client(viewer)
        real = world.ids[type_name]

        assert await client.data_and_errors(NODE, id=real) == {"data": {"node": {"id": real}}}, (
            type_name
        )
        key = world.keys[type_name]
        for wrong in [missing_id(type_name), *wrong_ids(type_name, key, other_type=False)]:
            assert await client.data_and_errors(NODE, id=wrong) == {"data": {"node": None}}, (
                type_name,
                wrong,
            )


async def test_nodes_answers_null_in_place_of_each_wrong_id(world):
    real = [world.ids[name] for name in ("Product", "Variant", "Category", "Tag", "Review")]
    wrong = wrong_ids("Product", world.keys["Product"], other_type=False)

    body = await world.anonymous.data_and_errors(
        NODES, ids=[real[0], *wrong, *real, missing_id("Tag")]
    )

    assert body == {
        "data": {"nodes": [{"id": real[0]}, *[None] * len(wrong), *[{"id": i} for i in real], None]}
    }


async def test_nodes_takes_at_most_100_ids(world):
    hundred = await world.anonymous.data_and_errors(NODES, ids=[world.ids["Product"]] * 100)
    too_many = await world.anonymous.data_and_errors(NODES, ids=[world.ids["Product"]] * 101)

    assert hundred == {"data": {"nodes": [{"id": world.ids["Product"]}] * 100}}
    assert "data" not in too_many  # refused before anything ran
    assert [e["extensions"] for e in too_many["errors"]] == [{"code": "INVALID", "field": "ids"}]


async def test_single_object_lookups_answer_null_for_wrong_ids(world):
    product = "query($id: ID) { product(id: $id) { id } }"
    user = "query($id: ID!) { user(id: $id) { id } }"

    assert await world.anonymous.data_and_errors(product, id=world.ids["Product"]) == {
        "data": {"product": {"id": world.ids["Product"]}}
    }
    assert await world.admin.data_and_errors(user, id=world.ids["User"]) == {
        "data": {"user": {"id": world.ids["User"]}}
    }
    for wrong in [missing_id("Product"), *wrong_ids("Product", world.keys["Product"])]:
        assert await world.anonymous.data_and_errors(product, id=wrong) == {
            "data": {"product": None}
        }
    for wrong in [missing_id("User"), *wrong_ids("User", world.keys["User"])]:
        assert await world.admin.data_and_errors(user, id=wrong) == {"data": {"user": None}}


PRODUCTS = """query($filter: ProductFilterInput) {
  products(first: 10, filter: $filter) { totalCount edges { node { name } } }
  productFacets(filter: $filter) { tags { count } attributes { name } priceRanges { count } }
}"""


@pytest.mark.parametrize(("field", "type_name"), [("categories", "Category"), ("tags", "Tag")])
async def test_a_wrong_id_in_a_filter_matches_nothing_like_a_missing_one(world, field, type_name):
    real, key = world.ids[type_name], world.keys[type_name]

    found = await world.anonymous.execute(PRODUCTS, filter={field: [real]})
    missing = await world.anonymous.execute(PRODUCTS, filter={field: [missing_id(type_name)]})
    mixed = await world.anonymous.execute(PRODUCTS, filter={field: [*wrong_ids(type_name, key)]})
    with_real = await world.anonymous.execute(
        PRODUCTS, filter={field: [*wrong_ids(type_name, key)[:20], real]}
    )

    assert found["products"] == {"totalCount": 1, "edges": [{"node": {"name": "Mug"}}]}
    assert missing["products"] == {"totalCount": 0, "edges": []}
    assert mixed == missing
    assert with_real == found


async def test_wrong_parent_or_product_ids_of_lists_give_empty_lists(world, make_category):
    await make_category("Mugs", parent=await make_category("Kitchen"))
    categories = "query($p: ID) { categories(parent: $p) { totalCount edges { cursor } } }"
    reviews = "query($p: ID!) { productReviews(productId: $p) { totalCount edges { cursor } } }"
    empty = {"totalCount": 0, "edges": []}

    for wrong in [missing_id("Category"), *wrong_ids("Category", world.keys["Category"])]:
        assert (await world.anonymous.execute(categories, p=wrong))["categories"] == empty
    for wrong in [missing_id("Product"), *wrong_ids("Product", world.keys["Product"])]:
        assert (await world.anonymous.execute(reviews, p=wrong))["productReviews"] == empty
    real = await world.anonymous.execute(reviews, p=world.ids["Product"])
    assert real["productReviews"]["totalCount"] == 1
