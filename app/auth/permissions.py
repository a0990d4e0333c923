"""RBAC: roles grant named permissions; a user may hold extra permissions too."""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from models.accounts import User


class Perm(Enum):
    """A named capability that a field or mutation can require."""

    MANAGE_PRODUCTS = "MANAGE_PRODUCTS"
    MANAGE_ORDERS = "MANAGE_ORDERS"
    MANAGE_DISCOUNTS = "MANAGE_DISCOUNTS"
    MANAGE_CHECKOUT = "MANAGE_CHECKOUT"
    MANAGE_USERS = "MANAGE_USERS"
    MANAGE_STAFF = "MANAGE_STAFF"
    MANAGE_SETTINGS = "MANAGE_SETTINGS"
    # For a carrier integration's service account: report deliveries, nothing else.
    REPORT_DELIVERIES = "REPORT_DELIVERIES"


class Role(Enum):
    CUSTOMER = "customer"
    STAFF = "staff"
    ADMIN = "admin"


ROLE_PERMISSIONS: dict[Role, frozenset[Perm]] = {
    Role.CUSTOMER: frozenset(),
    Role.STAFF: frozenset({Perm.MANAGE_PRODUCTS, Perm.MANAGE_ORDERS, Perm.MANAGE_DISCOUNTS}),
    Role.ADMIN: frozenset(Perm),
}


def effective_permissions(user: User) -> frozenset[Perm]:
    """What the role grants plus the user's extra grants (unknown names ignored)."""
    extra = {Perm(name) for name in user.permissions if name in Perm.__members__}
    return ROLE_PERMISSIONS[Role(user.role)] | extra


def has_permission(user: User | None, perm: Perm) -> bool:
    return user is not None and user.is_active and perm in effective_permissions(user)
