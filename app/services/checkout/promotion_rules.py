"""The input rules of promotions: codes, the value of each kind, currency, window, limits.

A promotion's final state is checked as a whole, the given fields over the kept ones:
- PERCENTAGE takes a `percentage` (0 < p <= 100, two places), FIXED an `amount` (> 0),
  FREE_SHIPPING neither; a value of another kind is INVALID. Switching the kind drops the
  old kind's value unless the input gives it again (which is then INVALID).
- The amount and the minimum subtotal share the promotion's one currency, else
  CURRENCY_MISMATCH: a promotion applies only to carts in that currency.
- `startsAt` is before `endsAt`; limits are at least 1; a usage limit is not below the
  uses already counted.
- FREE_SHIPPING is for the whole order: it takes no product or category scope.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from app.errors import CheckoutError, ErrorCode
from app.money import MoneyData, clean_money
from app.services.checkout.staff_checks import (
    check_count,
    check_order,
    check_whole,
    clean_moment,
)
from app.services.checks import UNSET, Cleaner, Unset, clean_decimal, clean_text
from models.promotions import Promotion

MAX_NAME_LENGTH = 250
MAX_CODE_LENGTH = 64
MAX_SCOPE = 500  # products or categories one promotion names
_CODE = re.compile(r"[A-Z0-9_-]+", re.ASCII)


class PromotionKind(Enum):
    """What a promotion takes off: a percentage of the eligible goods, a fixed amount of
    them, or the shipping."""

    PERCENTAGE = "percentage"
    FIXED = "fixed"
    FREE_SHIPPING = "free_shipping"


@dataclass(frozen=True)
class PromotionData:
    """Fields of a promotion; UNSET leaves a field as it is, None clears an optional one."""

    name: str | Unset = UNSET
    code: str | Unset | None = UNSET
    kind: PromotionKind | Unset = UNSET
    percentage: Decimal | Unset | None = UNSET
    amount: MoneyData | Unset | None = UNSET
    min_subtotal: MoneyData | Unset | None = UNSET
    starts_at: datetime | Unset | None = UNSET
    ends_at: datetime | Unset | None = UNSET
    usage_limit: int | Unset | None = UNSET
    per_customer_limit: int | Unset | None = UNSET
    stackable: bool | Unset = UNSET
    is_active: bool | Unset = UNSET
    product_ids: Sequence[int] | Unset | None = UNSET
    category_ids: Sequence[int] | Unset | None = UNSET


def clean_code(value: str, *, field: str = "code") -> str:
    """A coupon code as stored: trimmed, upper-cased, 1 to 64 of A-Z 0-9 - _."""
    code = value.strip()
    if len(code) > MAX_CODE_LENGTH:
        raise CheckoutError(
            ErrorCode.TOO_LONG, f"Must be at most {MAX_CODE_LENGTH} characters.", field=field
        )
    # ASCII first: the dotless i upper-cases to "I", the ff ligature to "FF".
    if not code.isascii() or not _CODE.fullmatch(code.upper()):
        raise CheckoutError(
            ErrorCode.INVALID,
            "Use 1 to 64 letters A-Z, digits, hyphens or underscores.",
            field=field,
        )
    return code.upper()


def clean_percentage(value: Decimal, *, field: str = "percentage") -> Decimal:
    percentage = clean_decimal(value, field=field, places=2, maximum=Decimal(100))
    if percentage == 0:
        raise CheckoutError(ErrorCode.INVALID, "Must be more than 0.", field=field)
    return percentage


def clean_amount(value: MoneyData, *, field: str = "amount") -> tuple[int, str]:
    amount = clean_money(value, field=field)
    if amount[0] == 0:
        raise CheckoutError(ErrorCode.INVALID, "Must be more than 0.", field=field)
    return amount


# Optional fields with their cleaner: (input field, check, extra arguments).
_CHECKS: dict[str, tuple[str, Any, dict[str, Any]]] = {
    "code": ("code", clean_code, {}),
    "percentage": ("percentage", clean_percentage, {}),
    "amount": ("amount", clean_amount, {}),
    "min_subtotal": ("minSubtotal", clean_money, {}),
    "starts_at": ("startsAt", clean_moment, {}),
    "ends_at": ("endsAt", clean_moment, {}),
    "usage_limit": ("usageLimit", check_whole, {"low": 1}),
    "per_customer_limit": ("perCustomerLimit", check_whole, {"low": 1}),
    "product_ids": ("productIds", check_count, {"limit": MAX_SCOPE}),
    "category_ids": ("categoryIds", check_count, {"limit": MAX_SCOPE}),
}


def clean_fields(data: PromotionData) -> Cleaner:
    """Each given field on its own; None stays None (cleared), lists None become []."""
    clean = Cleaner()
    if data.name is not UNSET:
        clean.put(
            "name", clean_text, data.name, field="name", max_length=MAX_NAME_LENGTH, required=True
        )
    for key, (field, check, extra) in _CHECKS.items():
        value = getattr(data, key)
        if value is UNSET:
            continue
        if value is None:
            clean.values[key] = [] if key.endswith("_ids") else None
        else:
            clean.put(key, check, value, field=field, **extra)
    for key in ("kind", "stackable", "is_active"):
        if getattr(data, key) is not UNSET:
            clean.values[key] = getattr(data, key)
    return clean


@dataclass(frozen=True)
class Scope:
    """How many products and categories a promotion is limited to (kept or given)."""

    products: int
    categories: int


def final_terms(clean: Cleaner, row: Promotion | None, scope: Scope) -> dict[str, Any]:
    """Column values of the promotion's kind, money terms, window and limits: the cleaned
    fields over the kept ones of `row`, checked together; errors go to `clean`."""
    values = clean.values
    kind: PromotionKind | None = values.get("kind") or (PromotionKind(row.kind) if row else None)
    failed = {error.field for error in clean.errors}

    def kept(key: str, column: str) -> Any:
        return values[key] if key in values else getattr(row, column, None)

    def kept_money(key: str, column: str) -> tuple[int, str] | None:
        if key in values:
            given: tuple[int, str] | None = values[key]
            return given
        amount = getattr(row, column, None)
        return None if row is None or amount is None else (amount, row.currency or "")

    percentage = kept("percentage", "percentage")
    amount = kept_money("amount", "amount")
    terms: list[tuple[str, PromotionKind, Any]] = [
        ("percentage", PromotionKind.PERCENTAGE, percentage),
        ("amount", PromotionKind.FIXED, amount),
    ]
    for key, of_kind, value in terms:
        field = _CHECKS[key][0]
        if kind is of_kind and value is None and field not in failed:
            clean.fail(ErrorCode.REQUIRED, f"A {of_kind.name} promotion needs it.", field=field)
        elif kind is not of_kind and values.get(key) is not None:
            clean.fail(ErrorCode.INVALID, f"Only {of_kind.name} promotions take it.", field=field)
    if kind is not PromotionKind.PERCENTAGE:
        percentage = None  # switching the kind drops the old kind's value
    if kind is not PromotionKind.FIXED:
        amount = None
    minimum = kept_money("min_subtotal", "min_subtotal_amount")
    if amount and minimum and amount[1] != minimum[1]:
        clean.fail(
            ErrorCode.CURRENCY_MISMATCH,
            f"Use the currency of the amount, {amount[1]}.",
            field="minSubtotal" if "min_subtotal" in values else "amount",
        )
    currency = (amount or minimum or (None, None))[1]
    columns: dict[str, Any] = {
        "kind": kind.value if kind else None,
        "percentage": percentage,
        "amount": amount[0] if amount else None,
        "min_subtotal_amount": minimum[0] if minimum else None,
        "currency": currency,
    }
    for key in ("starts_at", "ends_at", "usage_limit", "per_customer_limit"):
        columns[key] = kept(key, key)
    with clean.collect():
        check_order(
            columns["starts_at"],
            columns["ends_at"],
            low_field="startsAt",
            high_field="endsAt",
            high_given="ends_at" in values,
        )
    used = row.used_count if row else 0
    if columns["usage_limit"] is not None and columns["usage_limit"] < used:
        clean.fail(ErrorCode.INVALID, f"It was already used {used:,} times.", field="usageLimit")
    if kind is PromotionKind.FREE_SHIPPING:
        for count, field in ((scope.products, "productIds"), (scope.categories, "categoryIds")):
            if count:
                clean.fail(
                    ErrorCode.INVALID, "Free shipping applies to the whole order.", field=field
                )
    return columns
