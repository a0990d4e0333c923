"""Money as integer minor units plus an ISO 4217 code; Decimal at the edges, never float."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pycountry

from app.errors import ErrorCode, UserError
from app.services.checks import clean_decimal

# ISO 4217 minor-unit exponents that are not 2.
_EXPONENTS = {
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0,
    "PYG": 0, "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0,
    "XPF": 0, "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
}  # fmt: skip
# A price above this (in major units) is a typo, not a product.
MAX_MAJOR_AMOUNT = Decimal(1_000_000_000)


@dataclass(frozen=True)
class MoneyData:
    """An amount in major units as the client gave it, and its currency code (unchecked)."""

    amount: Decimal
    currency: str


def exponent(currency: str) -> int:
    return _EXPONENTS.get(currency, 2)


def clean_currency(code: str, *, field: str = "currency") -> str:
    code = code.strip().upper()
    if len(code) != 3 or pycountry.currencies.get(alpha_3=code) is None:
        shown = f" {code!r}" if len(code) <= 10 else ""  # never echo a huge input back
        raise UserError(ErrorCode.INVALID, f"Unknown currency{shown}.", field=field)
    return code


def to_minor(amount: Decimal, currency: str, *, field: str) -> int:
    """Decimal major units -> integer minor units; refuses negatives, excess precision, absurd."""
    places = exponent(currency)
    value = clean_decimal(amount, field=field, places=places, maximum=MAX_MAJOR_AMOUNT)
    _, digits, power = value.as_tuple()
    assert isinstance(power, int)  # finite, with at most `places` decimal places
    return int("".join(map(str, digits))) * int(10 ** (power + places))


def to_major(amount: int, currency: str) -> Decimal:
    return Decimal(amount).scaleb(-exponent(currency))


def clean_money(value: MoneyData, *, field: str) -> tuple[int, str]:
    """(minor units, currency) of a client's amount; INVALID on `field` when either is wrong."""
    currency = clean_currency(value.currency, field=field)
    return to_minor(value.amount, currency, field=field), currency
