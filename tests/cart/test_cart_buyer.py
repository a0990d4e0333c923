"""Who may use a cart, the buyer's email and addresses, and attaching a cart on sign-in."""

from __future__ import annotations

from sqlalchemy import update

from models.addresses import Address
from models.carts import Cart, CartLine
from models.catalog import Variant
from tests.cart import cart_fixtures
from tests.cart.cart_fixtures import (
    BERLIN,
    BILLING_ADDRESS,
    BUYER_UPDATE,
    CART_CREATE,
    CART_QUERY,
    EMAIL_UPDATE,
    LINES_ADD,
    LINES_REMOVE,
    MY_CART,
    NODE,
    SHIPPING_ADDRESS,
    errors_of,
    gid,
    new_cart,
    token_of,
)
from tests.conftest import PASSWORD

variants = cart_fixtures.variants
sql = cart_fixtures.sql
cart_row = cart_fixtures.cart_row

SIGN_IN = """mutation($email: String!, $password: String!, $cartId: ID) {
  tokenCreate(email: $email, password: $password, cartId: $cartId) {
    accessToken user { email } cart { id totalQuantity lines { sku quantity } }
    userErrors { field code } } }"""


async def _customer(gql, make_user, sign_in, email: str):
    await make_user(email)
    return gql.as_user((await sign_in(email))["accessToken"])


async def test_a_customers_cart_is_not_found_for_anyone_else(
    gql, make_user, sign_in, make_product, variants, count
):
    product = await make_product("Mug", variants=((1000, 10),))
    [variant] = await variants(product)
    ada = await _customer(gql, make_user, sign_in, "ada@example.com")
    bob = await _customer(gql, make_user, sign_in, "bob@example.com")
    cart = await new_cart(ada, (variant.id, 1))
    line = [{"variantId": gid("Variant", variant.id)}]

    for stranger in (gql, bob):
        added = await stranger.execute(LINES_ADD, cartId=cart["id"], lines=line)
        assert errors_of(added["cartLinesAdd"]) == [("cartId", "NOT_FOUND")]
        removed = await stranger.execute(
            LINES_REMOVE, cartId=cart["id"], lineIds=[cart["lines"][0]["id"]]
        )
        assert errors_of(removed["cartLinesRemove"]) == [("cartId", "NOT_FOUND")]
        mail = await stranger.execute(EMAIL_UPDATE, cartId=cart["id"], email="x@example.com")
        assert errors_of(mail["cartEmailUpdate"]) == [("cartId", "NOT_FOUND")]
        taken = await stranger.execute(BUYER_UPDATE, cartId=cart["id"]) if stranger is bob else None
        if taken is not None:
            assert errors_of(taken["cartBuyerUpdate"]) == [("cartId", "NOT_FOUND")]
        assert (await stranger.execute(CART_QUERY, id=cart["id"]))["cart"] is None
        assert (await stranger.execute(NODE, id=cart["id"]))["node"] is None

    assert await count(CartLine, CartLine.quantity == 1) == 1
    assert await count(Cart, Cart.email == "ada@example.com") == 1
    mine = await ada.execute(CART_QUERY, id=cart["id"])
    assert mine["cart"]["totalQuantity"] == 1
    assert (await ada.execute(NODE, id=cart["id"]))["node"] == {
        "id": cart["id"],
        "totalQuantity": 1,
    }
    assert (await ada.execute(MY_CART))["me"]["cart"]["id"] == cart["id"]
    assert (await bob.execute(MY_CART))["me"]["cart"] is None


async def test_an_anonymous_cart_is_usable_by_its_token_holder(gql, make_product, variants):
    product = await make_product("Mug")
    [variant] = await variants(product)
    cart = await new_cart(gql, (variant.id, 1))
    assert len(token_of(cart["id"])) == 43
    assert (await gql.execute(NODE, id=cart["id"]))["node"]["totalQuantity"] == 1


async def test_signed_in_cart_create_merges_into_the_open_cart(
    gql, make_user, sign_in, make_product, variants, count
):
    product = await make_product("Mug", variants=((1000, 10), (500, 10)))
    first, second = await variants(product)
    ada = await _customer(gql, make_user, sign_in, "ada@example.com")
    cart = await new_cart(ada, (first.id, 1))
    assert cart["email"] == "ada@example.com"

    again = await new_cart(ada, (first.id, 2), (second.id, 1))

    assert again["id"] == cart["id"]
    assert [(line["sku"], line["quantity"]) for line in again["lines"]] == [
        ("mug-0", 3), ("mug-1", 1)]  # fmt: skip
    assert await count(Cart) == 1


async def test_email_is_cleaned(gql, make_product, variants, cart_row):
    cart = await new_cart(gql)
    for email, code in (("", "REQUIRED"), ("not an email", "INVALID"), ("a\x00@x.com", "INVALID")):
        data = await gql.raw(EMAIL_UPDATE, cartId=cart["id"], email=email)
        if data.get("data"):
            assert errors_of(data["data"]["cartEmailUpdate"]) == [("email", code)], email
        else:  # NUL bytes never reach the resolver
            assert data["errors"][0]["extensions"]["code"] == "INVALID"
    ok = await gql.execute(EMAIL_UPDATE, cartId=cart["id"], email="Eve@Example.COM")
    assert ok["cartEmailUpdate"]["cart"]["email"] == "eve@example.com"
    assert (await cart_row(cart["id"])).email == "eve@example.com"


async def test_shipping_address_typed_in_or_from_the_book(
    gql, make_user, sign_in, cart_row, session_factory
):
    ada = await _customer(gql, make_user, sign_in, "ada@example.com")
    bob = await _customer(gql, make_user, sign_in, "bob@example.com")
    cart = await new_cart(ada)
    async with session_factory() as session, session.begin():
        own = Address(user_id=(await cart_row(cart["id"])).user_id, street_address_1="Main 1",
                      city="Paris", country="FR", first_name="Ada")  # fmt: skip
        session.add(own)
    bob_book = await bob.execute(
        "mutation($i: AddressInput!) { addressCreate(input: $i) { address { id } } }", i=BERLIN
    )
    bobs = bob_book["addressCreate"]["address"]["id"]

    both = await ada.execute(SHIPPING_ADDRESS, cartId=cart["id"], address=BERLIN,
                             addressId=gid("Address", own.id))  # fmt: skip
    neither = await ada.execute(SHIPPING_ADDRESS, cartId=cart["id"])
    foreign = await ada.execute(SHIPPING_ADDRESS, cartId=cart["id"], addressId=bobs)
    bad = await ada.execute(SHIPPING_ADDRESS, cartId=cart["id"],
                            address={"streetAddress1": "", "city": "X",
                                     "country": "ZZ"})  # fmt: skip
    assert errors_of(both["cartShippingAddressUpdate"]) == [("address", "INVALID")]
    assert errors_of(neither["cartShippingAddressUpdate"]) == [("address", "INVALID")]
    assert errors_of(foreign["cartShippingAddressUpdate"]) == [("addressId", "NOT_FOUND")]
    assert errors_of(bad["cartShippingAddressUpdate"]) == [
        ("address.streetAddress1", "REQUIRED"), ("address.country", "INVALID")]  # fmt: skip
    assert (await cart_row(cart["id"])).shipping_address is None

    typed = await ada.execute(SHIPPING_ADDRESS, cartId=cart["id"],
                              address={**BERLIN, "country": "de"})  # fmt: skip
    assert typed["cartShippingAddressUpdate"]["cart"]["shippingAddress"] == {
        "firstName": "Ada", "city": "Berlin", "country": "DE", "countryArea": "",
        "postalCode": "10117", "streetAddress1": "Unter den Linden 1"}  # fmt: skip
    booked = await ada.execute(BILLING_ADDRESS, cartId=cart["id"], addressId=gid("Address", own.id))
    assert booked["cartBillingAddressUpdate"]["cart"]["billingAddress"] == {
        "city": "Paris", "country": "FR"}  # fmt: skip
    stored = (await cart_row(cart["id"])).billing_address
    assert stored["street_address_1"] == "Main 1" and stored["first_name"] == "Ada"
    anonymous = await new_cart(gql)
    by_book = await gql.execute(SHIPPING_ADDRESS, cartId=anonymous["id"],
                                addressId=gid("Address", own.id))  # fmt: skip
    assert errors_of(by_book["cartShippingAddressUpdate"]) == [("addressId", "NOT_FOUND")]


async def test_buyer_update_hands_over_a_cart_to_a_customer_without_one(
    gql, make_user, sign_in, make_product, variants, cart_row
):
    product = await make_product("Mug")
    [variant] = await variants(product)
    cart = await new_cart(gql, (variant.id, 1))
    ada = await _customer(gql, make_user, sign_in, "ada@example.com")

    assert await gql.error_codes(BUYER_UPDATE, cartId=cart["id"]) == ["UNAUTHENTICATED"]
    data = await ada.execute(BUYER_UPDATE, cartId=cart["id"])

    assert data["cartBuyerUpdate"]["userErrors"] == []
    assert data["cartBuyerUpdate"]["cart"]["id"] == cart["id"]
    assert data["cartBuyerUpdate"]["cart"]["email"] == "ada@example.com"
    assert (await cart_row(cart["id"])).user_id is not None
    # Now it is Ada's: the token alone no longer opens it.
    assert (await gql.execute(CART_QUERY, id=cart["id"]))["cart"] is None


async def test_sign_in_with_a_cart_merges_it_into_the_open_one(
    gql, make_user, make_product, variants, sign_in, count, cart_row, sql
):
    product = await make_product("Mug", variants=((1000, 4), (500, 10), (300, 10), (100, 10)))
    a, b, c, gone = await variants(product)
    await make_user("ada@example.com")
    ada = gql.as_user((await sign_in("ada@example.com"))["accessToken"])
    mine = await new_cart(ada, (a.id, 3), (b.id, 1))
    anonymous = await new_cart(gql, (a.id, 1), (c.id, 2), (gone.id, 1))
    await sql(
        update(Variant).where(Variant.id == a.id).values(price_amount=1100)
    )  # seen prices stay
    await sql(update(Variant).where(Variant.id == gone.id).values(currency="EUR"))

    data = await gql.execute(SIGN_IN, email="ada@example.com", password=PASSWORD,
                             cartId=anonymous["id"])  # fmt: skip

    payload = data["tokenCreate"]
    assert payload["userErrors"] == [] and payload["accessToken"]
    assert payload["cart"]["id"] == mine["id"]
    # a: 3 + 1 = 4 (all the stock); b kept; c moved over; the other-currency line dropped.
    assert [(line["sku"], line["quantity"]) for line in payload["cart"]["lines"]] == [
        ("mug-0", 4), ("mug-1", 1), ("mug-2", 2)]  # fmt: skip
    assert await cart_row(anonymous["id"]) is None
    assert await count(Cart) == 1 and await count(CartLine) == 3


async def test_merge_caps_by_stock_and_max_quantity(
    gql, make_user, make_product, variants, sign_in, count
):
    product = await make_product("Mug", variants=((1000, 5),))
    [a] = await variants(product)
    ada = await _customer(gql, make_user, sign_in, "ada@example.com")
    await new_cart(ada, (a.id, 4))
    anonymous = await new_cart(gql, (a.id, 3))

    merged = await ada.execute(BUYER_UPDATE, cartId=anonymous["id"])

    assert [line["quantity"] for line in merged["cartBuyerUpdate"]["cart"]["lines"]] == [5]
    assert await count(Cart) == 1


async def test_sign_in_with_a_bad_cart_still_signs_in(
    gql, make_user, make_product, variants, count
):
    await make_user("ada@example.com")
    await make_user("bob@example.com")
    bob = gql.as_user(
        (await gql.execute(SIGN_IN, email="bob@example.com", password=PASSWORD))["tokenCreate"][
            "accessToken"
        ]
    )
    bobs = await new_cart(bob)
    for cart_id in ("nonsense", bobs["id"]):
        data = await gql.execute(
            SIGN_IN, email="ada@example.com", password=PASSWORD, cartId=cart_id
        )
        payload = data["tokenCreate"]
        assert payload["userErrors"] == [] and payload["accessToken"] and payload["cart"] is None
    wrong = await gql.execute(SIGN_IN, email="ada@example.com", password="wrong-password-1",
                              cartId=bobs["id"])  # fmt: skip
    assert errors_of(wrong["tokenCreate"]) == [("email", "INVALID_CREDENTIALS")]
    assert await count(Cart, Cart.user_id.is_not(None)) == 1


async def test_completed_carts_are_gone_for_reads_and_refused_for_writes(gql, cart_row, sql):
    from datetime import UTC, datetime

    cart = await new_cart(gql)
    await sql(
        update(Cart)
        .where(Cart.token == token_of(cart["id"]))
        .values(completed_at=datetime.now(UTC))
    )

    assert (await gql.execute(CART_QUERY, id=cart["id"]))["cart"] is None
    data = await gql.execute(EMAIL_UPDATE, cartId=cart["id"], email="a@example.com")
    assert errors_of(data["cartEmailUpdate"]) == [("cartId", "CART_COMPLETED")]
    assert (await cart_row(cart["id"])).email == ""


async def test_cart_create_with_an_explicit_null_input(gql, count):
    data = await gql.execute(CART_CREATE, input=None)
    assert data["cartCreate"]["userErrors"] == [] and data["cartCreate"]["cart"]["lines"] == []
    assert await count(Cart) == 1
