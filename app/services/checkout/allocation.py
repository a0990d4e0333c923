"""Taking stock for an order: which warehouses give each line's units, and the one
conditional UPDATE that takes them.

Priority (docs/decisions.md): the default warehouse first, then the others by id; a line is
split over warehouses only when the earlier ones run short. The caller holds the stock rows'
locks (`stock.lock_and_count`, variant then warehouse order), so the plan cannot go stale; the
UPDATE's `quantity >= n` is the last line of defence all the same.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import CheckoutError, ErrorCode
from app.services.checkout.stock import Locked
from app.services.public_changes import mark_public_change
from models.catalog import StockAdjustment
from models.orders import OrderAllocation


@dataclass(frozen=True)
class Need:
    order_line_id: int
    variant_id: int
    product_id: int
    quantity: int


@dataclass(frozen=True)
class Take:
    order_line_id: int
    variant_id: int
    warehouse_id: int
    quantity: int


def short(message: str = "Not enough stock left for a line.") -> CheckoutError:
    return CheckoutError(ErrorCode.INSUFFICIENT_STOCK, message, field="lines")


def plan(needs: list[Need], locked: Mapping[int, Locked]) -> list[Take]:
    """Units per (line, warehouse) by the priority; INSUFFICIENT_STOCK when a line is short.

    `locked`: the variants' stock rows as `stock.lock_and_count` read them under their lock.
    """
    on_hand = {
        variant_id: [list(slot) for slot in item.slots] for variant_id, item in locked.items()
    }
    takes: list[Take] = []
    for need in needs:
        left = need.quantity
        for slot in on_hand.get(need.variant_id, []):
            got = min(left, slot[1])
            if got > 0:
                takes.append(Take(need.order_line_id, need.variant_id, slot[0], got))
                slot[1] -= got
                left -= got
            if left == 0:
                break
        if left:
            raise short()
    return takes


# One conditional UPDATE for every (variant, warehouse) slot, as plain SQL: a VALUES list
# built per call could not be cached and was compiled again for every order.
_TAKE = text(
    "UPDATE stocks SET quantity = stocks.quantity - wanted.n"
    " FROM unnest(CAST(:variants AS bigint[]), CAST(:warehouses AS bigint[]),"
    " CAST(:counts AS integer[])) AS wanted (variant_id, warehouse_id, n)"
    " WHERE stocks.variant_id = wanted.variant_id AND stocks.warehouse_id = wanted.warehouse_id"
    " AND stocks.quantity >= wanted.n"
    " RETURNING stocks.variant_id, stocks.warehouse_id, stocks.quantity"
)


async def take(
    session: AsyncSession, takes: list[Take], *, needs: list[Need], reason: str,
    user_id: int | None,
) -> None:  # fmt: skip
    """Decrement stock by `takes` in one conditional UPDATE; record allocations and
    adjustments; mark the variants' public answers stale."""
    if not takes:
        return
    per_slot: dict[tuple[int, int], int] = defaultdict(int)
    for item in takes:
        per_slot[(item.variant_id, item.warehouse_id)] += item.quantity
    slots = sorted(per_slot.items())
    result = await session.execute(
        _TAKE,
        {
            "variants": [v for (v, _), _ in slots],
            "warehouses": [w for (_, w), _ in slots],
            "counts": [n for _, n in slots],
        },
    )
    after = {(v, w): q for v, w, q in result}
    if len(after) != len(per_slot):
        raise short()  # only without the caller's lock: nothing is written (rolled back)
    session.add_all(
        [
            OrderAllocation(
                order_line_id=item.order_line_id,
                variant_id=item.variant_id,
                warehouse_id=item.warehouse_id,
                quantity=item.quantity,
            )
            for item in takes
        ]
        + [
            StockAdjustment(
                variant_id=v, warehouse_id=w, delta=-n, quantity_after=after[(v, w)],
                reason=reason, user_id=user_id,
            )
            for (v, w), n in sorted(per_slot.items())
        ]
    )  # fmt: skip
    products = {need.variant_id: need.product_id for need in needs}
    for variant_id in sorted({v for v, _ in per_slot}):
        mark_public_change(session, f"variant:{variant_id}", f"product:{products[variant_id]}")
