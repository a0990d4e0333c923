"""The storefront load scenarios: GraphQL documents and deterministic variables.

Variables come from the deterministic demo catalog (`app.seed_catalog_plan`),
so every run against a database seeded with the same N asks the same questions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from app import seed_catalog_plan as plan

FIRST_PAGE = """
query FirstPage {
  products(first: 20) {
    edges { node {
      id name slug
      category { name }
      images { url alt }
      variants { sku price { amount currency } }
    } }
    pageInfo { hasNextPage endCursor }
  }
}"""

PRODUCT_PAGE = """
query ProductPage($slug: String!) {
  product(slug: $slug) {
    id name slug description attributes ratingAverage ratingCount
    category { name slug }
    images { url alt }
    variants {
      sku name attributes quantityAvailable
      price { amount currency } compareAtPrice { amount currency }
    }
    tags { name slug }
  }
}"""

SEARCH = """
query Search($filter: ProductFilterInput!) {
  products(first: 20, filter: $filter) {
    edges { node {
      id name slug
      images { url alt }
      variants { sku price { amount currency } }
    } }
    pageInfo { hasNextPage endCursor }
  }
  productFacets(filter: $filter) {
    categories { category { name slug } count }
    tags { tag { name slug } count }
    attributes { name values { value count } }
    priceRanges { gte { amount } lt { amount } count }
  }
}"""

# (search words, top-level category slug): words that occur in that category's names.
SEARCH_TERMS = (
    ("shirt", "clothing"),
    ("wool", "clothing"),
    ("boots", "shoes"),
    ("leather", "shoes"),
    ("mug", "home-kitchen"),
    ("lamp", "home-kitchen"),
    ("jersey", "sports-outdoors"),
    ("headphones", "electronics"),
    ("serum", "beauty"),
    ("notebook", "books-stationery"),
    ("coffee", "food-drink"),
    ("classic", "home-kitchen"),
)

Variables = Callable[[int], dict[str, Any]]


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    query: str
    variables: Variables  # request number -> variables

    def body(self, number: int) -> dict[str, Any]:
        return {"query": self.query, "variables": self.variables(number)}


def product_slugs(products: int, count: int = 200) -> list[str]:
    """Published demo products spread over the whole catalog, the same for the same N."""
    step = max(1, products // count)
    candidates = (plan.product(index) for index in range(0, products, step))
    return [product.slug for product in candidates if product.is_published][:count]


async def category_ids(client: httpx.AsyncClient, url: str) -> dict[str, str]:
    """Global IDs of the top-level categories the search scenario filters on."""
    query = "query($slug: String!) { category(slug: $slug) { id } }"
    found = {}
    for slug in sorted({slug for _, slug in SEARCH_TERMS}):
        response = await client.post(url, json={"query": query, "variables": {"slug": slug}})
        response.raise_for_status()
        category = response.json()["data"]["category"]
        if category is None:
            raise RuntimeError(f"Category {slug!r} is missing: is the database seeded?")
        found[slug] = category["id"]
    return found


async def build(client: httpx.AsyncClient, url: str, *, products: int) -> list[Scenario]:
    """The three scenarios for the GraphQL endpoint `url`, its database seeded with N products."""
    slugs = product_slugs(products)
    categories = await category_ids(client, url)
    searches = [{"search": words, "categories": [categories[slug]]} for words, slug in SEARCH_TERMS]
    return [
        Scenario("first_page", "first page, 20 products", FIRST_PAGE, lambda n: {}),
        Scenario(
            "product_page",
            "product page by slug",
            PRODUCT_PAGE,
            lambda n: {"slug": slugs[n % len(slugs)]},
        ),
        Scenario(
            "search",
            "search + category filter",
            SEARCH,
            lambda n: {"filter": searches[n % len(searches)]},
        ),
    ]
