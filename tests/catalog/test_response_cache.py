"""Whole-response cache for anonymous queries: hits, bypasses, invalidation, expiry."""

from __future__ import annotations

import asyncio

from tests.conftest import PASSWORD, TOKEN_CREATE

PRODUCTS = "{ products(first: 10) { edges { node { name } } } }"


def names(response) -> list[str]:
    return [e["node"]["name"] for e in response.json()["data"]["products"]["edges"]]


async def test_anonymous_query_is_served_from_cache_until_it_expires(start_app, make_product):
    await make_product("First")
    async with start_app(public_cache_seconds=0.5) as (_, http):
        miss = await http.post("/graphql", json={"query": PRODUCTS})
        await make_product("Second")  # written behind the app's back (another process)
        hit = await http.post("/graphql", json={"query": PRODUCTS})
        await asyncio.sleep(0.6)
        expired = await http.post("/graphql", json={"query": PRODUCTS})

    assert miss.headers["x-cache"] == "miss" and names(miss) == ["First"]
    assert hit.headers["x-cache"] == "hit" and names(hit) == ["First"]
    assert expired.headers["x-cache"] == "miss" and names(expired) == ["Second", "First"]
    # Same status and headers either way, but what the x-cache header says.
    assert hit.status_code == miss.status_code == 200
    # (the length differs with the cost report: a hit's actual cost is 0)
    per_response = ("x-cache", "x-request-id", "content-length")
    assert {k: v for k, v in hit.headers.items() if k not in per_response} == {
        k: v for k, v in miss.headers.items() if k not in per_response
    }


async def test_a_public_change_drops_listings_and_a_customers_private_write_does_not(
    start_app, make_product, make_user
):
    from app.auth.permissions import Role

    await make_product("First")
    await make_user(email="ann@example.com")
    await make_user(email="staff@example.com", role=Role.STAFF)
    tag = 'mutation { tagCreate(input: {name: "Sale"}) { userErrors { code } } }'
    async with start_app(public_cache_seconds=60) as (_, http):

        async def token(email: str) -> str:
            body = {"query": TOKEN_CREATE, "variables": {"email": email, "password": PASSWORD}}
            return (await http.post("/graphql", json=body)).json()["data"]["tokenCreate"][
                "accessToken"
            ]

        customer, staff = await token("ann@example.com"), await token("staff@example.com")
        await http.post("/graphql", json={"query": PRODUCTS})
        await http.post(  # a customer's private write (a session ends)
            "/graphql",
            json={"query": 'mutation { tokenRevoke(refreshToken: "x") { revoked } }'},
            headers={"Authorization": f"Bearer {customer}"},
        )
        after_customer = await http.post("/graphql", json={"query": PRODUCTS})
        created = await http.post(
            "/graphql", json={"query": tag}, headers={"Authorization": f"Bearer {staff}"}
        )
        after_staff = await http.post("/graphql", json={"query": PRODUCTS})

    assert after_customer.headers["x-cache"] == "hit"
    assert created.json()["data"]["tagCreate"]["userErrors"] == []
    assert after_staff.headers["x-cache"] == "miss"


async def test_signed_in_requests_errors_and_mutations_are_never_cached(
    start_app, make_user, sign_in
):
    await make_user(email="ann@example.com")
    token = (await sign_in("ann@example.com"))["accessToken"]
    me = {"query": "{ me { email } }"}
    bad = {"query": "{ products(first: 500) { edges { cursor } } }"}
    mutation = {"query": 'mutation { tokenRevoke(refreshToken: "x") { revoked } }'}
    async with start_app(public_cache_seconds=60) as (_, http):
        for _ in range(2):
            signed = await http.post(
                "/graphql", json=me, headers={"Authorization": f"Bearer {token}"}
            )
            errored = await http.post("/graphql", json=bad)
            mutated = await http.post("/graphql", json=mutation)

    assert signed.json()["data"] == {"me": {"email": "ann@example.com"}}
    assert "x-cache" not in signed.headers  # signed-in requests never look at the cache
    for response in (errored, mutated):
        assert response.headers["x-cache"] == "miss"


async def test_variables_and_get_are_part_of_the_key(start_app, make_product):
    await make_product("Mug")
    query = "query($n: Int) { products(first: $n) { edges { node { name } } } }"
    async with start_app(public_cache_seconds=60) as (_, http):
        one = await http.post("/graphql", json={"query": query, "variables": {"n": 1}})
        zero = await http.post("/graphql", json={"query": query, "variables": {"n": 0}})
        by_get = await http.get("/graphql", params={"query": PRODUCTS})
        by_get_again = await http.get("/graphql", params={"query": PRODUCTS})

    assert names(one) == ["Mug"] and names(zero) == []
    assert zero.headers["x-cache"] == "miss"
    assert by_get.headers["x-cache"] == "miss" and by_get_again.headers["x-cache"] == "hit"


async def test_identical_requests_at_once_execute_once(start_app, make_product, connection):
    """When an entry is missing, concurrent identical requests wait for the first one."""
    import asyncio

    from tests.sql_counter import count_statements

    await make_product("Mug")
    async with start_app(public_cache_seconds=60) as (_, http):
        with count_statements(connection) as statements:
            responses = await asyncio.gather(
                *(http.post("/graphql", json={"query": PRODUCTS}) for _ in range(10))
            )

    assert [names(response) for response in responses] == [["Mug"]] * 10
    assert sum(response.headers.get("x-cache") == "hit" for response in responses) == 9
    assert sum("FROM products" in sql for sql in statements) == 1
