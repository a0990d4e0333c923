"""Worked examples of the pricing engine, with the arithmetic (the same as docs/pricing.md).

Amounts are integer minor units: 333 is 3.33 EUR, 1 is 1 JPY, 1250 is 1.250 KWD.
`rows` gives each line as (undiscounted, discount, net, tax, gross).
"""

from __future__ import annotations

from decimal import Decimal

from app.services.checkout.pricing import (
    FIXED,
    FREE_SHIPPING,
    PERCENTAGE,
    AppliedDiscount,
    Discount,
    Priced,
    PriceLine,
    Shipping,
    price,
)


def line(key: int, unit: int, qty: int = 1, *, product: int = 0, cats: tuple[int, ...] = ()):
    return PriceLine(key, unit, qty, product or key, frozenset(cats))


def percent(pid: int, value: str, **scope) -> Discount:
    return Discount(pid, f"{value}% off", PERCENTAGE, percentage=Decimal(value), **scope)


def fixed(pid: int, amount: int, **scope) -> Discount:
    return Discount(pid, f"{amount} off", FIXED, code=f"C{pid}", amount=amount, **scope)


def rows(priced: Priced) -> list[tuple[int, int, int, int, int]]:
    return [
        (p.undiscounted_amount, p.discount_amount, p.net_amount, p.tax_amount, p.gross_amount)
        for p in priced.lines
    ]


def totals(priced: Priced) -> tuple[int, int, int, int, int]:
    """(subtotal, discount, shipping, tax, total)"""
    p = priced
    return p.subtotal_amount, p.discount_amount, p.shipping_amount, p.tax_amount, p.total_amount


def test_net_prices_tax_per_line_half_even():
    # Given three net lines of 3.33, 3.33 and 3.34 at 19%
    lines = [line(1, 333), line(2, 333), line(3, 334)]

    # When priced
    priced = price(lines, tax_rate=Decimal(19))

    # Then each line's tax is rounded on its own: 333 x 0.19 = 63.27 -> 63, 334 x 0.19 = 63.46
    # -> 63; the tax is 63 + 63 + 63 = 189, not 19% of 10.00 = 190: the total is the sum.
    assert rows(priced) == [(333, 0, 333, 63, 396), (333, 0, 333, 63, 396), (334, 0, 334, 63, 397)]
    assert totals(priced) == (1000, 0, 0, 189, 1189)
    assert priced.tax_rate == Decimal(19)


def test_half_even_ties_go_to_the_even_cent():
    # 50 x 0.19 = 9.5 -> 10 (even); 150 x 0.19 = 28.5 -> 28 (even), not 29.
    priced = price([line(1, 50), line(2, 150)], tax_rate=Decimal(19))

    assert [p.tax_amount for p in priced.lines] == [10, 28]
    assert totals(priced) == (200, 0, 0, 38, 238)


def test_gross_prices_19_percent():
    # Given gross prices (tax included) at 19%: 11.90 x 1 and 3.33 x 3
    priced = price([line(1, 1190), line(2, 333, 3)], tax_rate=Decimal(19), prices_include_tax=True)

    # Then the tax is taken out of each gross line: 1190 x 19/119 = 190 exactly, net 1000;
    # 999 x 19/119 = 159.504 -> 160, net 839. The shopper pays the gross sum 21.89.
    assert rows(priced) == [(1190, 0, 1000, 190, 1190), (999, 0, 839, 160, 999)]
    assert totals(priced) == (2189, 0, 0, 350, 2189)


def test_gross_prices_7_25_percent():
    # 1000 x 7.25/107.25 = 67.599 -> 68, net 932; 999 x 7.25/107.25 = 67.531 -> 68, net 931.
    rate = Decimal("7.25")
    priced = price([line(1, 1000), line(2, 333, 3)], tax_rate=rate, prices_include_tax=True)

    assert rows(priced) == [(1000, 0, 932, 68, 1000), (999, 0, 931, 68, 999)]
    assert totals(priced) == (1999, 0, 0, 136, 1999)


def test_percentage_spread_by_largest_remainder():
    # Given 3.33 + 3.33 + 3.34 = 10.00 and a 10% coupon: 10% of 1000 = 100.
    # Shares 100 x 333/1000 = 33.3, 33.3, 33.4: floors 33 + 33 + 33 = 99, the one left goes to
    # the largest remainder (.4, the third line).
    priced = price([line(1, 333), line(2, 333), line(3, 334)], discounts=[percent(5, "10")])

    assert [p.discount_amount for p in priced.lines] == [33, 33, 34]
    assert priced.discounts == [AppliedDiscount(5, "10% off", None, PERCENTAGE, 100)]
    assert totals(priced) == (1000, 100, 0, 0, 900)


def test_percentage_remainder_tie_goes_to_the_earlier_line():
    # 10% of 5.55 + 5.55 = 111; 111 x 555/1110 = 55.5 for both: floors 55 + 55 = 110, the tie
    # for the one left goes to the first line.
    priced = price([line(1, 555), line(2, 555)], discounts=[percent(5, "10")])

    assert rows(priced) == [(555, 56, 499, 0, 499), (555, 55, 500, 0, 500)]
    assert totals(priced) == (1110, 111, 0, 0, 999)


def test_percentage_amount_is_rounded_half_even():
    # 10% of 1.25 = 12.5 -> 12; 10% of 1.35 = 13.5 -> 14.
    assert price([line(1, 125)], discounts=[percent(5, "10")]).discount_amount == 12
    assert price([line(1, 135)], discounts=[percent(5, "10")]).discount_amount == 14


def test_fixed_amount_is_capped_by_the_eligible_amount():
    # A 10.00 coupon on 3.00 + 2.00 takes 5.00: both lines go to 0, never below.
    priced = price([line(1, 300), line(2, 200)], discounts=[fixed(5, 1000)], tax_rate=Decimal(19))

    assert rows(priced) == [(300, 300, 0, 0, 0), (200, 200, 0, 0, 0)]
    assert priced.discounts == [AppliedDiscount(5, "1000 off", "C5", FIXED, 500)]
    assert totals(priced) == (500, 500, 0, 0, 0)


def test_fixed_amount_limited_to_a_product():
    # 5.00 off product 2 only: 20.00 (product 1) untouched, 10.00 -> 5.00.
    lines = [line(1, 2000, product=1), line(2, 1000, product=2)]
    priced = price(lines, discounts=[fixed(5, 500, product_ids=frozenset({2}))])

    assert [p.discount_amount for p in priced.lines] == [0, 500]
    assert totals(priced) == (3000, 500, 0, 0, 2500)


def test_fixed_amount_limited_to_a_category_covers_subcategories():
    # Line 1's product is in category 7, a child of 3; line 2 is in 8. 6.00 off category 3,
    # and only line 1 is eligible: 6.00 spread over [10.00] = 6.00.
    lines = [line(1, 1000, cats=(7, 3)), line(2, 1000, cats=(8,)), line(3, 1000)]
    priced = price(lines, discounts=[fixed(5, 600, category_ids=frozenset({3}))])

    assert [p.discount_amount for p in priced.lines] == [600, 0, 0]
    assert totals(priced) == (3000, 600, 0, 0, 2400)


def test_stacked_promotions_apply_in_order_on_what_the_first_left():
    # 60.00 + 40.00. First 10%: 10.00 spread 6.00 / 4.00, leaving 54.00 / 36.00.
    # Then 5.00 on the 90.00 left: 500 x 5400/9000 = 3.00, 500 x 3600/9000 = 2.00.
    lines = [line(1, 6000), line(2, 4000)]
    priced = price(lines, discounts=[percent(1, "10"), fixed(2, 500)])

    assert [p.discount_amount for p in priced.lines] == [900, 600]
    assert [d.amount for d in priced.discounts] == [1000, 500]
    assert totals(priced) == (10000, 1500, 0, 0, 8500)

    # The other order: 5.00 first, then 10% of the 95.00 left = 9.50; 14.50 in all.
    swapped = price(lines, discounts=[fixed(2, 500), percent(1, "10")])
    assert [d.amount for d in swapped.discounts] == [500, 950]
    assert totals(swapped) == (10000, 1450, 0, 0, 8550)


def test_minimum_subtotal_not_met_is_skipped():
    # 49.99 < 50.00: skipped with "minimum"; at 50.00 exactly it applies.
    coupon = fixed(5, 500, min_subtotal=5000)

    short = price([line(1, 4999)], discounts=[coupon])
    assert short.skipped == [(5, "minimum")]
    assert short.discounts == []
    assert totals(short) == (4999, 0, 0, 0, 4999)

    reached = price([line(1, 5000)], discounts=[coupon])
    assert reached.skipped == []
    assert totals(reached) == (5000, 500, 0, 0, 4500)


def test_promotion_matching_no_line_is_skipped():
    priced = price([line(1, 1000)], discounts=[percent(5, "10", product_ids=frozenset({99}))])

    assert priced.skipped == [(5, "no_eligible_line")]
    assert priced.discounts == []
    assert totals(priced) == (1000, 0, 0, 0, 1000)


def test_shipping_free_at_the_threshold_after_discounts():
    # Shipping 4.90, free from 50.00 of goods after discounts.
    method = Shipping(price_amount=490, free_above_amount=5000)

    # 55.00 - 5.00 = 50.00: reached exactly, shipping 0.
    at = price([line(1, 5500)], discounts=[fixed(5, 500)], shipping=method)
    assert totals(at) == (5500, 500, 0, 0, 5000)

    # 55.00 - 5.01 = 49.99: not reached, although the subtotal before discounts is 55.00.
    below = price([line(1, 5500)], discounts=[fixed(5, 501)], shipping=method)
    assert totals(below) == (5500, 501, 490, 0, 5489)


def test_free_shipping_promotion():
    # The promotion takes the 4.90 to 0, and counts as a discount of 4.90.
    promo = Discount(5, "Free delivery", FREE_SHIPPING, code="SHIPFREE")
    priced = price([line(1, 2000)], discounts=[promo], shipping=Shipping(490))

    assert priced.discounts == [AppliedDiscount(5, "Free delivery", "SHIPFREE", FREE_SHIPPING, 490)]
    assert [p.discount_amount for p in priced.lines] == [0]
    assert totals(priced) == (2000, 490, 0, 0, 2000)


def test_free_shipping_promotion_limited_to_a_product_needs_that_product():
    # Free delivery on product 2 only, listed first; the cart holds product 1 alone.
    promo = Discount(5, "Free delivery", FREE_SHIPPING, product_ids=frozenset({2}))
    only_one = price([line(1, 2000)], discounts=[promo, fixed(6, 100)], shipping=Shipping(490))
    assert only_one.skipped == [(5, "no_eligible_line")]
    assert totals(only_one) == (2000, 100, 490, 0, 2390)

    # With product 2 in the cart it applies, and is listed before the later coupon.
    both = price(
        [line(1, 2000), line(2, 1000)], discounts=[promo, fixed(6, 100)], shipping=Shipping(490)
    )
    assert [(d.promotion_id, d.amount) for d in both.discounts] == [(5, 490), (6, 100)]
    assert totals(both) == (3000, 590, 0, 0, 2900)


def test_shipping_is_taxed_at_the_goods_rate():
    # Net: 20.00 goods, tax 3.80; shipping 4.90, tax 490 x 0.19 = 93.1 -> 93.
    net = price([line(1, 2000)], shipping=Shipping(490), tax_rate=Decimal(19))
    assert (net.shipping_amount, net.shipping_tax_amount) == (490, 93)
    assert totals(net) == (2000, 0, 490, 380 + 93, 2000 + 380 + 490 + 93)

    # Gross: 23.80 goods hold 3.80; shipping 4.90 holds 490 x 19/119 = 78.2 -> 78.
    gross = price(
        [line(1, 2380)], shipping=Shipping(490), tax_rate=Decimal(19), prices_include_tax=True
    )
    assert (gross.shipping_amount, gross.shipping_tax_amount) == (490, 78)
    assert totals(gross) == (2380, 0, 490, 380 + 78, 2380 + 490)


def test_zero_decimal_currency_jpy_one_yen_cases():
    # JPY has no minor unit: amounts are whole yen; the engine does not care. Net, 10%.
    rate = Decimal(10)
    # 1 yen x 0.10 = 0.1 -> 0; 5 x 0.10 = 0.5 -> 0 (even); 15 x 0.10 = 1.5 -> 2 (even).
    priced = price([line(1, 1), line(2, 5), line(3, 15)], tax_rate=rate)
    assert rows(priced) == [(1, 0, 1, 0, 1), (5, 0, 5, 0, 5), (15, 0, 15, 2, 17)]
    assert totals(priced) == (21, 0, 0, 2, 23)

    # A 1 yen coupon over three 1 yen lines: shares 1/3 each, all tied: the first line.
    ones = price([line(1, 1), line(2, 1), line(3, 1)], discounts=[fixed(5, 1)])
    assert [p.discount_amount for p in ones.lines] == [1, 0, 0]
    assert totals(ones) == (3, 1, 0, 0, 2)

    # 10% of 1 yen = 0.1 -> 0: the coupon applies (its rules are met) with an amount of 0.
    tiny = price([line(1, 1)], discounts=[percent(5, "10")])
    assert [(d.promotion_id, d.amount) for d in tiny.discounts] == [(5, 0)]
    assert totals(tiny) == (1, 0, 0, 0, 1)

    # Gross: 110 yen holds 110 x 10/110 = 10; 1 yen holds 1 x 10/110 = 0.09 -> 0.
    gross = price([line(1, 110), line(2, 1)], tax_rate=rate, prices_include_tax=True)
    assert rows(gross) == [(110, 0, 100, 10, 110), (1, 0, 1, 0, 1)]


def test_three_decimal_currency_kwd():
    # KWD has 3 decimals: 1.250 KWD is 1250 fils. Net, 5%: 1250 x 0.05 = 62.5 -> 62 (even);
    # 1350 x 0.05 = 67.5 -> 68 (even).
    priced = price([line(1, 1250), line(2, 1350)], tax_rate=Decimal(5))
    assert [p.tax_amount for p in priced.lines] == [62, 68]
    assert totals(priced) == (2600, 0, 0, 130, 2730)

    # 15% of 0.333 + 0.333 + 0.334 = 150 fils: quotas 49.95, 49.95, 50.1; floors 49 + 49 + 50 =
    # 148; the two left go to the two largest remainders (.95, .95): 50 each.
    off = price([line(1, 333), line(2, 333), line(3, 334)], discounts=[percent(5, "15")])
    assert [p.discount_amount for p in off.lines] == [50, 50, 50]


def test_quantity_999_of_a_large_price_is_exact():
    # 999,999,999.99 x 999 = 99,899,999,999,001 cents: Python ints, no overflow, no float.
    big = [line(1, 99_999_999_999, 999)]

    # Net 19%: 99,899,999,999,001 x 0.19 = 18,980,999,999,810.19 -> 18,980,999,999,810.
    net = price(big, tax_rate=Decimal(19))
    assert rows(net) == [
        (99_899_999_999_001, 0, 99_899_999_999_001, 18_980_999_999_810, 118_880_999_998_811)
    ]

    # Gross 7.25% with 10% off: 10% = 9,989,999,999,900.1 -> 9,989,999,999,900, leaving
    # 89,909,999,999,101, which holds x 7.25/107.25 = 6,077,832,167,771.40 -> ...771.
    gross = price(
        big, discounts=[percent(5, "10")], tax_rate=Decimal("7.25"), prices_include_tax=True
    )
    assert rows(gross) == [
        (
            99_899_999_999_001,
            9_989_999_999_900,
            83_832_167_831_330,
            6_077_832_167_771,
            89_909_999_999_101,
        )
    ]

    # 10^12 fils (the largest price, 1e9 KWD) x 10^6 (the largest quantity setting) = 10^18:
    # 10^18 x 7.25/107.25 = 67,599,067,599,067,599.07 -> 67,599,067,599,067,599.
    huge = price([line(1, 10**12, 10**6)], tax_rate=Decimal("7.25"), prices_include_tax=True)
    assert huge.tax_amount == 67_599_067_599_067_599


def test_hundred_percent_takes_the_goods_to_zero_and_leaves_shipping():
    # 100% of 10.00 + 5.00 = 15.00: the goods are free, their tax 0; shipping 4.90 + 19%
    # (93) is still paid. A promotion after it finds nothing left: "no_eligible_line".
    priced = price(
        [line(1, 1000), line(2, 500)],
        discounts=[percent(1, "100"), fixed(2, 100)],
        shipping=Shipping(490),
        tax_rate=Decimal(19),
    )

    assert rows(priced) == [(1000, 1000, 0, 0, 0), (500, 500, 0, 0, 0)]
    assert priced.skipped == [(2, "no_eligible_line")]
    assert totals(priced) == (1500, 1500, 490, 93, 583)
