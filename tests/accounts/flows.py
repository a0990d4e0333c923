"""Shared pieces of the mailed-link tests: the flow mutations and a mailbox read like a user's.

Mail is read the way a user would: the outbox worker runs once, delivering to
DATA_DIR/outbox/*.eml, and the token is taken from the link in the message.
"""

from __future__ import annotations

import email
import re
from email.policy import default
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from app.notifications.channels import FileChannel
from app.notifications.worker import run_once
from tests.conftest import PASSWORD, TOKEN_CREATE

SHOP = "https://shop.example.com"
RESET_URL = f"{SHOP}/reset"
NEW_PASSWORD = "another-Staple-horse-7"
ERRORS = "userErrors { field code }"
REQUEST_RESET = f"""
mutation($email: String!, $url: String!) {{
  requestPasswordReset(email: $email, redirectUrl: $url) {{ {ERRORS} }}
}}"""
SET_PASSWORD = f"""
mutation($token: String!, $password: String!) {{
  setPassword(token: $token, password: $password) {{ {ERRORS} }}
}}"""
CONFIRM_EMAIL = f"""
mutation($token: String!) {{ confirmEmail(token: $token) {{ {ERRORS} }} }}"""
REQUEST_CHANGE = f"""
mutation($email: String!, $password: String!, $url: String!) {{
  requestEmailChange(newEmail: $email, password: $password, redirectUrl: $url) {{ {ERRORS} }}
}}"""
CONFIRM_CHANGE = f"""
mutation($token: String!) {{ confirmEmailChange(token: $token) {{ {ERRORS} }} }}"""
REGISTER = f"""
mutation($input: AccountRegisterInput!) {{
  accountRegister(input: $input) {{ user {{ email }} {ERRORS} }}
}}"""
REFRESH = """
mutation($token: String!) {
  tokenRefresh(refreshToken: $token) { accessToken userErrors { field code } }
}"""
ME = "{ me { email } }"


class Mailbox:
    """The messages the outbox worker delivers to files, and the tokens in their links."""

    def __init__(self, session_factory: Any, directory: Path) -> None:
        self.factory = session_factory
        self.directory = directory / "outbox"
        self.channel = FileChannel(self.directory, sender="shop@example.com")
        self.seen: set[str] = set()

    async def fetch(self) -> list[email.message.EmailMessage]:
        """Run the worker once; the messages delivered since the last fetch."""
        await run_once(self.factory, channel=self.channel, batch_size=100)
        new = []
        for path in sorted(self.directory.glob("*.eml")) if self.directory.exists() else []:
            if path.name not in self.seen:
                self.seen.add(path.name)
                new.append(email.message_from_bytes(path.read_bytes(), policy=default))
        return new

    async def token(self, to: str) -> str:
        """The token of the one new message to `to`."""
        [message] = [m for m in await self.fetch() if m["To"] == to]
        body = message.get_body(("plain",)).get_content()
        link = re.search(r"https://\S+", body)
        assert link, body
        query = parse_qs(urlsplit(link.group(0)).query)
        assert query["email"] == [to]
        return query["token"][0]


async def execute(http: Any, query: str, **variables: Any) -> dict[str, Any]:
    """`data` of a response that must carry no GraphQL errors."""
    response = await http.post("/graphql", json={"query": query, "variables": variables})
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


def codes(payload: dict[str, Any]) -> list[tuple[str | None, str]]:
    """(first field segment, code) of each user error."""
    return [((e["field"] or [None])[0], e["code"]) for e in payload["userErrors"]]


async def sign_in(http: Any, address: str, password: str = PASSWORD) -> dict[str, Any]:
    """The tokenCreate payload (tokens or userErrors)."""
    data = await execute(http, TOKEN_CREATE, email=address, password=password)
    return data["tokenCreate"]
