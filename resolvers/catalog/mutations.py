"""Staff mutations of the catalog (permission MANAGE_PRODUCTS)."""

from __future__ import annotations

import strawberry


@strawberry.type
class Mutation:
    pass
