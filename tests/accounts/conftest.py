"""Fixtures of the accounts tests: an app for the mailed flows and the mailbox it fills."""

from __future__ import annotations

import uuid

import pytest

from tests.accounts.flows import SHOP, Mailbox


@pytest.fixture
async def api(start_app, tmp_path):
    """An app that accepts SHOP as redirect origin; keyword arguments override settings."""

    async def start(**overrides):
        return start_app(
            account_redirect_origins=[SHOP],
            data_dir=tmp_path,
            pubsub_prefix=f"flows-{uuid.uuid4()}",
            **overrides,
        )

    return start


@pytest.fixture
def mailbox(session_factory, tmp_path) -> Mailbox:
    return Mailbox(session_factory, tmp_path)
