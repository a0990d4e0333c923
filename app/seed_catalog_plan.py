"""The demo catalog as plain data: deterministic, product i depends only on i.

Written to the database by `app.seed_catalog`. Every product draws from its own
`random.Random` seeded with its index, so seeding 60 products and later 10,000
gives the same first 60, and slugs and SKUs are stable across runs (the writer
relies on that to stay idempotent with ON CONFLICT DO NOTHING).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from slugify import slugify

SEED = "commerce-demo-catalog-v1"
# Fixed, so that the same index always gets the same dates.
ANCHOR = datetime(2026, 1, 1, tzinfo=UTC)
CURRENCY = "USD"

SIZES = ("XS", "S", "M", "L", "XL", "XXL")
SHOE_SIZES = ("37", "38", "39", "40", "41", "42", "43", "44", "45", "46")
COLORS = (
    "Black", "White", "Navy", "Red", "Olive", "Sand", "Grey", "Forest Green",
    "Burgundy", "Sky Blue", "Mustard", "Crème",
)  # fmt: skip
ADJECTIVES = (
    "Classic", "Everyday", "Vintage", "Nordic", "Urban", "Organic", "Heritage", "Compact",
    "Premium", "Essential", "Alpine", "Coastal", "Modern", "Handmade", "Rustic", "Studio",
    "Crème", "Élan", "Château", "Fjäll", "Côte", "Lumière", "Søndergaard", "Großstadt",
)  # fmt: skip
BRANDS = (
    "Nordvik", "Atelier Lune", "Kasa", "Brightline", "Fjällgård", "Maison Océane",
    "Müller & Söhne", "Oakhaven", "Tierra", "Hanami", "Polar Works", "Bellwether",
)  # fmt: skip
ORIGINS = ("Portugal", "Italy", "Germany", "Japan", "Vietnam", "USA", "Mexico", "Poland")
SENTENCES = (
    "Made for everyday use and built to last.",
    "Designed in our studio and tested by people who actually use it.",
    "A customer favourite that sells out every season.",
    "Thoughtful details you notice after the first week.",
    "Responsibly sourced materials and a fair supply chain.",
    "Easy to care for, hard to wear out.",
    "Pairs well with the rest of the collection.",
    "Small-batch production keeps quality high and waste low.",
)
CARE = (
    "Machine wash cold, hang to dry.",
    "Wipe clean with a damp cloth.",
    "Store in a cool, dry place.",
    "Hand wash only.",
)
TAGS = (
    "New", "Sale", "Bestseller", "Eco", "Organic", "Handmade", "Limited Edition",
    "Gift Idea", "Vegan", "Fair Trade", "Made in EU", "Recycled", "Summer", "Winter",
    "Outdoor", "Premium", "Budget", "Classic", "Trending", "Staff Pick", "Back in Stock",
    "Last Chance", "Waterproof", "Lightweight", "Travel", "Bundle", "Exclusive", "Unisex",
    "Café Edit", "Für Kinder",
)  # fmt: skip


@dataclass(frozen=True)
class Leaf:
    """What a leaf category sells: nouns, materials, the variant option, a price range."""

    nouns: tuple[str, ...]
    materials: tuple[str, ...]
    option: str  # "size", "shoe", "color", "weight", "volume" or "none"
    dollars: tuple[int, int]
    specials: tuple[str, ...]  # whole names, some not English, used now and then


def _leaf(
    nouns: str, materials: str, option: str, dollars: tuple[int, int], specials: str = ""
) -> Leaf:
    def split(words: str) -> tuple[str, ...]:
        return tuple(word for word in words.split("|") if word)

    return Leaf(split(nouns), split(materials), option, dollars, split(specials))


CLOTHING = "Cotton|Linen|Wool|Denim|Cashmere|Merino|Organic Cotton"
# (name, children) or (name, Leaf): 41 categories over three levels.
# fmt: off
TREE: tuple[tuple[str, Any], ...] = (
    ("Clothing", (
        ("Men", (
            ("Shirts", _leaf("Shirt|Oxford Shirt|Overshirt|Polo", CLOTHING, "size", (25, 120))),
            ("Trousers", _leaf("Chinos|Trousers|Jeans|Joggers", CLOTHING, "size", (40, 160))),
            ("Jackets & Coats", _leaf("Jacket|Parka|Overcoat|Bomber",
                                      "Wool|Down|Waxed Cotton", "size", (90, 450),
                                      "Пуховик Зимний")),
        )),
        ("Women", (
            ("Dresses", _leaf("Dress|Wrap Dress|Slip Dress|Shirt Dress",
                              CLOTHING, "size", (45, 260))),
            ("Knitwear", _leaf("Sweater|Cardigan|Pullover|Turtleneck",
                               CLOTHING, "size", (50, 240), "Свитер Вязаный")),
            ("Skirts", _leaf("Skirt|Midi Skirt|Pleated Skirt", CLOTHING, "size", (35, 140))),
        )),
        ("Kids", (
            ("Baby", _leaf("Romper|Bodysuit|Bib Set|Sleep Bag",
                           "Organic Cotton|Bamboo", "size", (12, 60))),
            ("Kids' Outerwear", _leaf("Rain Jacket|Snowsuit|Fleece",
                                      "Recycled|Fleece", "size", (30, 140))),
        )),
    )),
    ("Shoes", (
        ("Sneakers", _leaf("Sneakers|Runners|Court Shoes", "Leather|Canvas|Suede",
                           "shoe", (60, 220))),
        ("Boots", _leaf("Boots|Chelsea Boots|Hiking Boots", "Leather|Suede", "shoe", (90, 380))),
        ("Sandals", _leaf("Sandals|Slides|Espadrilles", "Leather|Cork|Jute", "shoe", (25, 140))),
    )),
    ("Home & Kitchen", (
        ("Cookware", _leaf("Skillet|Saucepan|Dutch Oven|Crêpe Pan|Kettle",
                           "Cast Iron|Copper|Stainless Steel", "none", (25, 320),
                           "Самовар «Тула»|Чайник Эмалированный")),
        ("Tableware", _leaf("Mug|Plate Set|Espresso Tasse|Serving Bowl",
                            "Stoneware|Porcelain|Glass", "color", (8, 120))),
        ("Bedding & Bath", _leaf("Duvet Cover|Towel Set|Pillowcase|Bathrobe",
                                 "Linen|Cotton|Percale", "color", (20, 260))),
        ("Décor", _leaf("Vase|Candle|Throw Blanket|Wall Print", "Ceramic|Wool|Soy Wax",
                        "color", (10, 180), "Матрёшка Расписная")),
        ("Lighting", _leaf("Desk Lamp|Pendant Light|Floor Lamp", "Oak|Brass|Rattan",
                           "color", (40, 420))),
    )),
    ("Sports & Outdoors", (
        ("Football", _leaf("Fußball|Match Ball|Goalkeeper Gloves|Shin Guards|Jersey",
                           "Synthetic|Latex", "size", (15, 160))),
        ("Running", _leaf("Running Vest|Running Tights|Hydration Belt", "Recycled|Merino",
                          "size", (20, 140))),
        ("Camping", _leaf("Tent|Sleeping Bag|Camp Stove|Headlamp", "Ripstop|Down|Aluminium",
                          "none", (20, 520))),
        ("Cycling", _leaf("Bike Light|Saddle Bag|Cycling Jersey|Helmet", "Aluminium|Recycled",
                          "color", (15, 220))),
    )),
    ("Electronics", (
        ("Audio", _leaf("Headphones|Earbuds|Speaker|Turntable", "Aluminium|Walnut",
                        "color", (30, 480))),
        ("Phone Accessories", _leaf("Phone Case|Charger|Power Bank|Cable", "Silicone|Leather",
                                    "color", (9, 90))),
        ("Computer Accessories", _leaf("Keyboard|Mouse|Laptop Stand|USB Hub", "Aluminium|Oak",
                                       "color", (15, 220))),
    )),
    ("Beauty", (
        ("Skincare", _leaf("Face Cream|Serum|Cleanser|Lip Balm", "Rose|Aloe|Shea",
                           "volume", (8, 95), "Crème Hydratante")),
        ("Fragrance", _leaf("Eau de Parfum|Eau de Toilette|Scented Oil", "Cedar|Vetiver|Neroli",
                            "volume", (30, 210))),
    )),
    ("Books & Stationery", (
        ("Notebooks", _leaf("Notebook|Planner|Sketchbook|Journal",
                            "Dotted|Linen-bound|Recycled", "color", (6, 45))),
        ("Pens", _leaf("Fountain Pen|Gel Pen Set|Pencil Set", "Brass|Resin|Cedar",
                       "color", (4, 180))),
    )),
    ("Food & Drink", (
        ("Coffee & Tea", _leaf("Espresso Beans|Filter Coffee|Green Tea|Café Crème Blend",
                               "Single Origin|Organic", "weight", (8, 45), "Иван-чай Листовой")),
        ("Chocolate & Sweets", _leaf("Dark Chocolate|Truffles|Crème Brûlée Fudge|Nougat",
                                     "Organic|Fair Trade", "weight", (4, 40))),
        ("Pantry", _leaf("Olive Oil|Pasta|Honey|Spice Set", "Organic|Wildflower",
                         "weight", (5, 50))),
    )),
)
# fmt: on
OPTION_VALUES = {
    "size": SIZES,
    "shoe": SHOE_SIZES,
    "color": COLORS,
    "weight": ("250 g", "500 g", "1 kg"),
    "volume": ("30 ml", "50 ml", "100 ml"),
}


@dataclass(frozen=True)
class CategoryPlan:
    name: str
    slug: str
    parent_slug: str | None
    depth: int
    leaf: Leaf | None


@dataclass(frozen=True)
class VariantPlan:
    sku: str
    name: str
    price_amount: int
    compare_at_amount: int | None
    attributes: dict[str, str]
    weight_grams: int
    quantity: int


@dataclass(frozen=True)
class ProductPlan:
    index: int
    name: str
    slug: str
    description: str
    category_slug: str | None
    attributes: dict[str, str]
    is_published: bool
    created_at: datetime
    published_at: datetime | None
    rating_sum: int
    rating_count: int
    variants: tuple[VariantPlan, ...]
    images: tuple[tuple[str, str], ...]  # (url, alt)
    tag_slugs: tuple[str, ...]


@cache
def categories() -> tuple[CategoryPlan, ...]:
    """The category tree, parents before children."""
    plans: list[CategoryPlan] = []

    def walk(nodes: tuple[tuple[str, Any], ...], parent: str | None, depth: int) -> None:
        for name, children in nodes:
            slug = slugify(name)
            leaf = children if isinstance(children, Leaf) else None
            plans.append(CategoryPlan(name, slug, parent, depth, leaf))
            if leaf is None:
                walk(children, slug, depth + 1)

    walk(TREE, None, 0)
    return tuple(plans)


@cache
def tags() -> tuple[tuple[str, str], ...]:
    """(name, slug) of every demo tag."""
    return tuple((name, slugify(name)) for name in TAGS)


@cache
def _code(value: str) -> str:
    """SKU part of an option value: "Sky Blue" -> "SKY-BLUE"."""
    return slugify(value).upper() or "STD"


def _option(leaf: Leaf, value: str, color: str) -> tuple[str, dict[str, str]]:
    """Variant name and attributes, e.g. ("M / Navy", {"size": "M", "color": "Navy"})."""
    if leaf.option in ("size", "shoe"):
        return f"{value} / {color}", {"size": value, "color": color}
    if leaf.option == "none":
        return "Default", {}
    return value, {leaf.option: value}


def _variants(rng: random.Random, index: int, leaf: Leaf, color: str) -> tuple[VariantPlan, ...]:
    dollars = rng.randint(*leaf.dollars)
    cents = 99 if rng.random() < 0.7 else 0  # shop prices end in .99 or .00
    on_sale = rng.random() < 0.2
    values = OPTION_VALUES.get(leaf.option, ("",))
    count = min(len(values), rng.choice((1, 1, 2, 3, 3, 4)))
    if leaf.option == "color":
        chosen = rng.sample(values, count)
    else:  # a run of neighbouring sizes
        start = rng.randrange(len(values) - count + 1)
        chosen = list(values[start : start + count])
    variants = []
    for number, value in enumerate(chosen):
        # Bigger packs cost more; sizes and colours share one price.
        step = dollars // 2 if leaf.option in ("weight", "volume") else 0
        price = (dollars + number * step) * 100 - (100 - cents) % 100
        compare_at = (price * rng.randint(120, 160) // 10_000) * 100 + 99 if on_sale else None
        name, attributes = _option(leaf, value, color)
        variants.append(
            VariantPlan(
                sku=f"DEMO-{index:06d}-{_code(value)}",
                name=name,
                price_amount=price,
                compare_at_amount=compare_at,
                attributes=attributes,
                weight_grams=rng.randint(40, 2500),
                quantity=rng.randint(1, 150) if rng.random() >= 0.15 else 0,
            )
        )
    return tuple(variants)


def _description(rng: random.Random, name: str, attributes: dict[str, str], leaf: Leaf) -> str:
    sentences = " ".join(rng.sample(SENTENCES, 2))
    return (
        f"**{name}** by {attributes['brand']}. {sentences}\n\n"
        "### Details\n\n"
        f"- Material: {attributes['material']}\n"
        f"- Colour: {attributes['color']}\n"
        f"- Made in {attributes['origin']}\n\n"
        f"_{rng.choice(CARE)}_\n"
    )


def product(index: int) -> ProductPlan:
    """Demo product number `index` (0-based); the same every time."""
    rng = random.Random(f"{SEED}:{index}")
    leaves = [plan for plan in categories() if plan.leaf is not None]
    category = rng.choice(leaves)
    leaf = category.leaf
    assert leaf is not None
    color, material = rng.choice(COLORS), rng.choice(leaf.materials)
    if leaf.specials and rng.random() < 0.06:
        name = rng.choice(leaf.specials)
    elif rng.random() < 0.5:
        name = f"{rng.choice(ADJECTIVES)} {material} {rng.choice(leaf.nouns)}"
    else:
        name = f"{rng.choice(ADJECTIVES)} {rng.choice(leaf.nouns)}"
    slug = f"{slugify(name)}-{index}"
    attributes = {
        "brand": rng.choice(BRANDS),
        "color": color.lower(),
        "material": material.lower(),
        "origin": rng.choice(ORIGINS),
    }
    created_at = ANCHOR - timedelta(seconds=rng.randint(0, 2 * 365 * 86_400))
    published = rng.random() >= 0.08
    rating_count = int(rng.paretovariate(1.3) * 2) if rng.random() < 0.65 else 0
    rating_count = min(rating_count, 800)
    average = rng.triangular(2.5, 5.0, 4.4)
    rating_sum = min(max(round(average * rating_count), rating_count), 5 * rating_count)
    images = tuple(
        (
            f"https://picsum.photos/seed/{slug if n == 0 else f'{slug}-{n + 1}'}/800/800",
            f"{name}, view {n + 1}",
        )
        for n in range(rng.randint(1, 3))
    )
    tag_slugs = tuple(slug for _, slug in rng.sample(tags(), rng.choice((0, 1, 1, 2, 3, 4))))
    return ProductPlan(
        index=index,
        name=name,
        slug=slug,
        description=_description(rng, name, attributes, leaf),
        category_slug=category.slug if rng.random() >= 0.02 else None,
        attributes=attributes,
        is_published=published,
        created_at=created_at,
        published_at=created_at + timedelta(hours=rng.randint(0, 72)) if published else None,
        rating_sum=rating_sum,
        rating_count=rating_count,
        variants=_variants(rng, index, leaf, color),
        images=images,
        tag_slugs=tag_slugs,
    )
