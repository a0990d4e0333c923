"""Shared GraphQL pieces: user errors, the signed-in user, permission classes, and the two
ways a resolver calls a service: `run_mutation` and `run_query`."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any, TypeVar

import strawberry
from graphql import GraphQLError
from strawberry.permission import BasePermission

from app.auth.permissions import Perm, has_permission
from app.context import Context
from app.errors import ErrorCode as DomainErrorCode
from app.errors import UserError as DomainUserError
from app.errors import ValidationErrors
from app.events import publish_committed, take_pending
from app.ratelimit import RateLimited
from app.services.public_changes import take_public_changes
from models.accounts import User

# The one ID codec, re-exported for resolvers (the `as` form marks an explicit re-export).
from resolvers.ids import MISSING_KEY as MISSING_KEY
from resolvers.ids import decode_id as decode_id
from resolvers.ids import decode_ids as decode_ids
from resolvers.ids import decode_optional_id as decode_optional_id
from resolvers.ids import decode_token_id as decode_token_id
from resolvers.ids import global_id as global_id
from resolvers.ids import node_keys as node_keys
from resolvers.ids import node_token as node_token
from resolvers.ids import parse_global_id as parse_global_id

log = logging.getLogger(__name__)

Info = strawberry.Info[Context, None]

# `strawberry.enum` registers the GraphQL enum on the domain class itself, so fields are
# annotated with the domain enums (`DomainErrorCode`, `Perm`): one type for mypy and GraphQL.
strawberry.enum(DomainErrorCode, description="Why an input was refused.")
strawberry.enum(Perm, name="Permission", description="A named staff capability.")


@strawberry.type(
    name="UserError", description="A problem with the input of a mutation; nothing was written."
)
class UserErrorType:
    """The GraphQL form of a domain `app.errors.UserError` (named apart so neither hides
    the other in an import)."""

    field: list[str] | None = strawberry.field(
        description="Path of the input field at fault, or null when no single field is."
    )
    message: str = strawberry.field(description="Human-readable explanation.")
    code: DomainErrorCode = strawberry.field(description="Machine-readable reason.")


def user_errors_field() -> Any:
    """The `userErrors` field every mutation payload carries."""
    return strawberry.field(
        default_factory=list, description="Problems with the input; empty on success."
    )


def payload_field(description: str) -> Any:
    """A payload's result field (the object, or the ID of the deleted one): null when
    `userErrors` say why nothing was done."""
    return strawberry.field(default=None, description=description)


class ApiError(GraphQLError):
    """A GraphQL error with an `extensions.code` that clients can branch on."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message, extensions={"code": code})


def current_user(info: Info) -> User:
    """The signed-in user, or an UNAUTHENTICATED error (saying why a token failed)."""
    user = info.context.user
    if user is None:
        raise ApiError(info.context.auth_error or "Sign in to do this.", "UNAUTHENTICATED")
    return user


class IsAuthenticated(BasePermission):
    message = "Sign in to do this."

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        current_user(info)
        return True


@cache
def HasPermission(perm: Perm) -> type[BasePermission]:
    """Permission class requiring `perm`: UNAUTHENTICATED without a user, FORBIDDEN without it."""

    def check(self: BasePermission, source: Any, info: Info, **kwargs: Any) -> bool:
        return has_permission(current_user(info), perm)

    name = "Has" + perm.value.title().replace("_", "")
    return type(
        name,
        (BasePermission,),
        {
            "message": f"You need the {perm.value} permission to do this.",
            "error_class": GraphQLError,
            "error_extensions": {"code": "FORBIDDEN"},
            "has_permission": check,
        },
    )


def user_errors(error: DomainUserError) -> list[UserErrorType]:
    errors = error.errors if isinstance(error, ValidationErrors) else [error]
    return [
        UserErrorType(
            field=[item.field] if item.field else None,
            message=item.message,
            code=item.code,
        )
        for item in errors
    ]


P = TypeVar("P")
R = TypeVar("R")


def query_error(error: DomainUserError) -> ApiError:
    """A refused read as a GraphQL error: queries have no payload to carry `userErrors`."""
    api_error = ApiError(error.message, error.code.value)
    if error.field and api_error.extensions is not None:
        api_error.extensions["field"] = error.field
    return api_error


@contextmanager
def query_errors() -> Iterator[None]:
    """Turn a UserError raised inside (input parsing of a query) into its GraphQL error."""
    try:
        yield
    except DomainUserError as exc:
        raise query_error(exc) from None


async def run_query(info: Info, service: Callable[..., Awaitable[R]], /, **kwargs: Any) -> R:
    """Call the read `service` with the request's session, under the request's lock.

    The lock orders this statement with the loaders' batches (one AsyncSession runs one
    statement at a time, and sibling fields resolve concurrently). A UserError (a bad
    cursor, a page too large) becomes a GraphQL error with `extensions.code`.
    """
    context = info.context
    with query_errors():
        async with context.db_lock:
            return await service(context.session, **kwargs)


async def run_in_own_session(
    info: Info, service: Callable[..., Awaitable[R]], /, **kwargs: Any
) -> R:
    """Call the read `service` in a short session of its own: for subscriptions, whose
    WebSocket context has no request session (operations on one socket run concurrently)."""
    with query_errors():
        async with info.context.session_factory() as session:
            return await service(session, **kwargs)


async def run_mutation(
    info: Info,
    payload: Callable[..., P],
    service: Callable[..., Awaitable[R]],
    to_payload: Callable[[R], P],
    **kwargs: Any,
) -> P:
    """Run `service` in one transaction; a UserError becomes `userErrors` and nothing is written.

    Events the service emitted are published after the commit, never before.
    """
    context = info.context
    session = context.session
    if session.in_transaction():  # the read transaction that loaded the user
        await session.commit()
    error: DomainUserError | None = None
    try:
        async with session.begin():
            try:
                result = await service(session, **kwargs)
            except DomainUserError as exc:
                if not exc.persist:
                    raise
                error = exc
    except DomainUserError as exc:
        take_pending(session)
        take_public_changes(session)
        return payload(user_errors=user_errors(exc))
    except BaseException:
        take_pending(session)
        take_public_changes(session)
        raise
    context.reset_loaders()
    changes = take_public_changes(session)
    if changes:
        await context.invalidate_public(changes)
    for channel, message in take_pending(session):
        try:
            await context.pubsub.publish(channel, message)
        except Exception:  # the change is committed; a lost notice must not turn it into an error
            log.exception("publishing to %s failed", channel)
    if error is not None:
        return payload(user_errors=user_errors(error))
    return to_payload(result)


async def run_flow(
    info: Info,
    payload: Callable[..., P],
    flow: Callable[..., Awaitable[R]],
    to_payload: Callable[[R], P],
    **kwargs: Any,
) -> P:
    """Run `flow`, which opens its own transactions (a provider is called between them:
    app/services/payments/provider_calls.py); a UserError becomes `userErrors`. What its
    committed transactions emitted is published, whatever happened after them."""
    context = info.context
    session = context.session
    if session.in_transaction():  # the read transaction that loaded the user
        await session.commit()
    try:
        result = await flow(session, **kwargs)
    except DomainUserError as exc:
        return payload(user_errors=user_errors(exc))
    finally:
        if session.in_transaction():
            await session.rollback()
        context.reset_loaders()
        changes = take_public_changes(session)
        if changes:
            await context.invalidate_public(changes)
        await publish_committed(session, context.pubsub)
    return to_payload(result)


def client_ip(info: Info) -> str:
    """The caller's address: the TCP peer, or what a TRUSTED_PROXIES proxy says it is."""
    client = info.context.request.client
    return client.host if client else "unknown"


async def rate_limit(info: Info, rule: str, scope: str, key: str) -> None:
    """Count an attempt; over the limit, a RATE_LIMITED error that says when to retry."""
    limiter = info.context.rate_limiter
    if limiter is None:
        return
    try:
        await limiter.hit(rule, scope, key[:320])
    except RateLimited as exc:
        error = ApiError(str(exc), "RATE_LIMITED")
        assert error.extensions is not None
        error.extensions["retryAfter"] = exc.retry_after
        raise error from None
