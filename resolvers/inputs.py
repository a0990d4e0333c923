"""Client input to service arguments: partial updates, and parsing inside the mutation."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from app.services.catalog_checks import UNSET, Unset
from resolvers.base import Info, run_mutation

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)
P = TypeVar("P")
R = TypeVar("R")


class Given(Protocol[T_co]):
    """A `strawberry.Some`: the value of an input field the client gave (maybe null)."""

    @property
    def value(self) -> T_co: ...


def given(value: Given[T] | None) -> T | Unset:
    """A Maybe input field as service data: absent is UNSET, anything else its value."""
    return UNSET if value is None else value.value


async def run_parsed(
    info: Info,
    payload: Callable[..., P],
    service: Callable[..., Awaitable[R]],
    to_payload: Callable[[R], P],
    parse: Callable[[], dict[str, Any]],
) -> P:
    """`run_mutation` with the input parsed inside it: a refused input is a userError too."""

    async def call(session: AsyncSession) -> R:
        return await service(session, **parse())

    return await run_mutation(info, payload, call, to_payload)
