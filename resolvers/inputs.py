"""Client input to service arguments: partial updates, and parsing inside the mutation.

The rule of every partial-update input: a field left out is UNSET (leave as is); an
explicit null clears a field that may be empty, and is a REQUIRED userError on a
field that cannot be null (`given_not_null`). Such fields are typed `Maybe[T | None]`
so that the null reaches this code instead of failing in Strawberry's coercion.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

from app.errors import ErrorCode, UserError
from app.services.checks import UNSET, Unset
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


def given_not_null(value: Given[T | None] | None, *, field: str) -> T | Unset:
    """A Maybe field that cannot be null: absent is UNSET, an explicit null is REQUIRED."""
    if value is None:
        return UNSET
    if value.value is None:
        raise UserError(ErrorCode.REQUIRED, "This field cannot be null.", field=field)
    return value.value


async def run_parsed(
    info: Info,
    payload: Callable[..., P],
    service: Callable[..., Awaitable[R]],
    to_payload: Callable[[R], P],
    parse: Callable[[], dict[str, Any]],
) -> P:
    """`run_mutation` with the input parsed inside it: a refused input is a userError too."""

    async def call(session: object) -> R:  # the session is run_mutation's, opaque here
        return await service(session, **parse())

    return await run_mutation(info, payload, call, to_payload)
