"""Pure arithmetic of invoice documents: lines, the tax breakdown, and a refund's tax split.

Amounts are integer minor units. Every line is a dict in the shape stored in
`Invoice.lines` (see models/payments.py) plus "netAmount" (= totalAmount - taxAmount), so
a reader never has to know whether the shop enters prices net or gross.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

from app.services.checkout.pricing import tax_of

RATE_PLACES = Decimal("0.001")


def rate_text(rate: Decimal) -> str:
    """A tax rate as stored on documents: three decimals ("19.000")."""
    return str(Decimal(rate).quantize(RATE_PLACES))


def document_line(
    *, description: str, sku: str, quantity: int, unit_amount: int, tax_rate: Decimal,
    tax_amount: int, total_amount: int,
) -> dict[str, Any]:  # fmt: skip
    """One document line; `total_amount` is gross, `unit_amount` as the shop enters prices."""
    return {
        "description": description,
        "sku": sku,
        "quantity": quantity,
        "unitAmount": unit_amount,
        "taxRate": rate_text(tax_rate),
        "netAmount": total_amount - tax_amount,
        "taxAmount": tax_amount,
        "totalAmount": total_amount,
    }


def tax_breakdown(lines: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Net and tax per rate, in increasing rate order; each column sums to the lines'."""
    groups: dict[Decimal, list[int]] = {}
    for line in lines:
        sums = groups.setdefault(Decimal(line["taxRate"]), [0, 0])
        sums[0] += line["netAmount"]
        sums[1] += line["taxAmount"]
    return [
        {"rate": rate_text(rate), "netAmount": net, "taxAmount": tax}
        for rate, (net, tax) in sorted(groups.items())
    ]


def shipping_rate(shipping_gross: int, shipping_tax: int, rates: Sequence[Decimal], *,
                  gross: bool) -> Decimal:  # fmt: skip
    """The rate shipping was taxed at (orders do not store it): the first line rate that
    gives its stored tax, else the first line rate (pricing taxes goods and shipping at the
    one rate of the address), else 0."""
    entered = shipping_gross if gross else shipping_gross - shipping_tax
    for rate in rates:
        if tax_of(entered, rate, gross=gross) == shipping_tax:
            return rate
    return rates[0] if rates else Decimal(0)


@dataclass(frozen=True)
class Portion:
    """Part of something paid (an order line, shipping, a rate's share of the order) given
    back: `amount` of its `paid` gross amount, which held `paid_tax`."""

    amount: int
    paid: int
    paid_tax: int

    def exact_tax(self) -> Fraction:
        if self.paid == 0:
            return Fraction(0)
        return Fraction(self.paid_tax * self.amount, self.paid)


def split_tax(portions: Sequence[Portion]) -> list[int]:
    """The tax given back with each portion: in proportion to the tax paid on it.

    The total is the exact sum of the proportional taxes rounded half-even; it is shared by
    largest remainder (whole parts first, the cents left to the largest fractions, ties to
    the earlier portion), so the shares sum to the total exactly and a portion that gives
    back all it paid gets back exactly the tax it paid.
    """
    exact = [portion.exact_tax() for portion in portions]
    total = _round_fraction(sum(exact, Fraction(0)))
    shares = [value.numerator // value.denominator for value in exact]
    order = sorted(range(len(exact)), key=lambda index: (-(exact[index] - shares[index]), index))
    for index in order[: total - sum(shares)]:
        shares[index] += 1
    return shares


def _round_fraction(value: Fraction) -> int:
    quotient, remainder = divmod(value.numerator, value.denominator)
    twice = 2 * remainder
    if twice > value.denominator or (twice == value.denominator and quotient % 2 == 1):
        quotient += 1
    return quotient
