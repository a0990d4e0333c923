"""Privacy: export everything we hold about the signed-in user, and delete (anonymise) the account.

Deletion keeps the users row (orders will reference it) but strips everything that
identifies the person; reviews stay, shown as "Anonymous" (see docs/decisions.md).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.passwords import verify_password
from app.auth.permissions import Role
from app.errors import AccountError, ErrorCode
from app.services.accounts.sessions import end_sessions
from app.services.checks import MAX_PASSWORD_LENGTH, locked_or_not_found
from models.accounts import RefreshToken, User
from models.addresses import Address
from models.catalog import Product, Review, Variant, WishlistItem

EXPORT_FORMAT_VERSION = 1


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _profile(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "email": user.email,
        "firstName": user.first_name,
        "lastName": user.last_name,
        "phone": user.phone,
        "locale": user.locale,
        "role": user.role,
        "isActive": user.is_active,
        "createdAt": _iso(user.created_at),
        "updatedAt": _iso(user.updated_at),
        "lastLoginAt": _iso(user.last_login_at),
    }


async def _addresses(session: AsyncSession, user_id: int) -> list[dict[str, Any]]:
    rows = await session.scalars(
        select(Address).where(Address.user_id == user_id).order_by(Address.created_at, Address.id)
    )
    return [
        {
            "firstName": row.first_name,
            "lastName": row.last_name,
            "company": row.company,
            "streetAddress1": row.street_address_1,
            "streetAddress2": row.street_address_2,
            "city": row.city,
            "postalCode": row.postal_code,
            "countryArea": row.country_area,
            "country": row.country,
            "phone": row.phone,
            "isDefaultShipping": row.is_default_shipping,
            "isDefaultBilling": row.is_default_billing,
            "createdAt": _iso(row.created_at),
            "updatedAt": _iso(row.updated_at),
        }
        for row in rows
    ]


async def _wishlist(session: AsyncSession, user_id: int) -> list[dict[str, Any]]:
    rows = await session.execute(
        select(WishlistItem.created_at, Product.name, Product.slug, Variant.sku)
        .join(Product, Product.id == WishlistItem.product_id)
        .outerjoin(Variant, Variant.id == WishlistItem.variant_id)
        .where(WishlistItem.user_id == user_id)
        .order_by(WishlistItem.created_at, WishlistItem.id)
    )
    return [
        {"productName": name, "productSlug": slug, "variantSku": sku, "addedAt": _iso(added)}
        for added, name, slug, sku in rows
    ]


async def _reviews(session: AsyncSession, user_id: int) -> list[dict[str, Any]]:
    rows = await session.execute(
        select(Review, Product.name, Product.slug)
        .join(Product, Product.id == Review.product_id)
        .where(Review.user_id == user_id)
        .order_by(Review.created_at, Review.id)
    )
    return [
        {
            "productName": name,
            "productSlug": slug,
            "rating": review.rating,
            "title": review.title,
            "body": review.body,
            "isHidden": review.is_hidden,
            "createdAt": _iso(review.created_at),
            "updatedAt": _iso(review.updated_at),
        }
        for review, name, slug in rows
    ]


async def _sessions(session: AsyncSession, user_id: int) -> list[dict[str, Any]]:
    # Selected column by column: the token hash never leaves the database.
    rows = await session.execute(
        select(
            RefreshToken.created_at,
            RefreshToken.expires_at,
            RefreshToken.used_at,
            RefreshToken.revoked_at,
            RefreshToken.user_agent,
        )
        .where(RefreshToken.user_id == user_id)
        .order_by(RefreshToken.created_at, RefreshToken.id)
    )
    return [
        {
            "createdAt": _iso(created),
            "expiresAt": _iso(expires),
            "usedAt": _iso(used),
            "revokedAt": _iso(revoked),
            "userAgent": agent,
        }
        for created, expires, used, revoked, agent in rows
    ]


async def export_personal_data(session: AsyncSession, *, user: User) -> dict[str, Any]:
    """Everything stored about `user` as JSON-ready data, in a stable order."""
    fresh = await session.get_one(User, user.id, populate_existing=True)
    return {
        "formatVersion": EXPORT_FORMAT_VERSION,
        "generatedAt": datetime.now(UTC).isoformat(),
        "profile": _profile(fresh),
        "addresses": await _addresses(session, user.id),
        "wishlist": await _wishlist(session, user.id),
        "reviews": await _reviews(session, user.id),
        "sessions": await _sessions(session, user.id),
    }


async def delete_account(session: AsyncSession, *, user: User, password: str) -> bool:
    """Anonymise one's own account; INVALID_CREDENTIALS on a wrong password, staff refused."""
    row = await locked_or_not_found(session, User, user.id, field=None, where=[User.is_active])
    if row.password_hash is None:
        # Social sign-in accounts have no password: an empty string confirms.
        password_ok = password == ""
    else:
        password_ok = len(password) <= MAX_PASSWORD_LENGTH and await verify_password(
            row.password_hash, password
        )
    if not password_ok:
        raise AccountError(
            ErrorCode.INVALID_CREDENTIALS, "The current password is wrong.", field="password"
        )
    if row.role != Role.CUSTOMER.value:
        # This is also what keeps the last admin: no admin deletes their own account, and
        # the row lock makes a concurrent promotion wait or be seen.
        raise AccountError(
            ErrorCode.INVALID,
            "Staff accounts cannot be deleted by their owner; ask an admin to demote it first.",
            field="password",
        )
    # .invalid is reserved: registration rejects it, so this address never collides.
    row.email = f"deleted-{row.id}@deleted.invalid"
    row.first_name = row.last_name = row.phone = ""
    row.locale = "en"
    row.password_hash = None
    row.permissions = []
    row.role = Role.CUSTOMER.value
    row.is_active = False
    await end_sessions(session, user=row)
    await session.execute(delete(Address).where(Address.user_id == row.id))
    await session.execute(delete(WishlistItem).where(WishlistItem.user_id == row.id))
    await session.flush()
    return True
