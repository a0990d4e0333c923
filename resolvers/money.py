"""Money in the API, shared by every domain that shows or takes prices (catalog, cart, orders).

Amounts cross the API as decimal strings in major units with an ISO 4217 code; services
hold integer minor units (app/money.py converts between the two).
"""

from __future__ import annotations

from decimal import Decimal

import strawberry

from app.money import MoneyData, to_major


@strawberry.type(description="An amount of money: a decimal string and an ISO 4217 code.")
class Money:
    amount: Decimal = strawberry.field(description="Major units as a decimal string, e.g. 12.50.")
    currency: str = strawberry.field(description="ISO 4217 currency code.")

    @classmethod
    def of(cls, amount: int, currency: str) -> Money:
        """`amount` minor units of `currency` (1250 EUR cents is 12.50)."""
        return cls(amount=to_major(amount, currency), currency=currency)


@strawberry.input(description="An amount in an ISO 4217 currency.")
class MoneyInput:
    amount: Decimal = strawberry.field(description="Major units, e.g. 12.50; not negative.")
    currency: str = strawberry.field(description="ISO 4217 code, e.g. EUR.")

    def to_data(self) -> MoneyData:
        """The amount for a service (checked there: currency code, places, range)."""
        return MoneyData(amount=self.amount, currency=self.currency)
