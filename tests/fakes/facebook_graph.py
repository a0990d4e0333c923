"""A fake Facebook Graph API: `debug_token` (app access token checked) and `/me`."""

from __future__ import annotations

import time
from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.fakes.local_server import LocalServer

APP_ID = "1234567890123456"
APP_SECRET = "fake-app-secret-0123456789abcdef"


@dataclass
class FacebookUser:
    id: str
    app_id: str = APP_ID
    email: str | None = "fb.user@example.com"
    first_name: str = "Fay"
    last_name: str = "Book"


def _oauth_error(message: str, code: int = 190) -> JSONResponse:
    return JSONResponse(
        {"error": {"message": message, "type": "OAuthException", "code": code}}, status_code=400
    )


class FakeFacebook:
    """`tokens` maps user access tokens to users; `graph_url` is the Graph API base URL."""

    def __init__(self) -> None:
        self.tokens: dict[str, FacebookUser] = {}
        self.app_token_uses = 0
        self.server = LocalServer(
            Starlette(
                routes=[
                    Route("/v19.0/debug_token", self._debug_token),
                    Route("/v19.0/me", self._me),
                ]
            )
        )
        self.graph_url = f"{self.server.url}/v19.0"

    def add_user(self, token: str, user: FacebookUser) -> str:
        self.tokens[token] = user
        return token

    async def _debug_token(self, request: Request) -> JSONResponse:
        if request.query_params.get("access_token") != f"{APP_ID}|{APP_SECRET}":
            return _oauth_error("Invalid OAuth access token signature.")
        self.app_token_uses += 1
        user = self.tokens.get(request.query_params.get("input_token", ""))
        if user is None:
            return JSONResponse(
                {
                    "data": {
                        "is_valid": False,
                        "error": {"code": 190, "message": "Invalid OAuth access token."},
                        "scopes": [],
                    }
                }
            )
        return JSONResponse(
            {
                "data": {
                    "app_id": user.app_id,
                    "type": "USER",
                    "application": "Test shop",
                    "expires_at": int(time.time()) + 3600,
                    "is_valid": True,
                    "scopes": ["email", "public_profile"],
                    "user_id": user.id,
                }
            }
        )

    async def _me(self, request: Request) -> JSONResponse:
        user = self.tokens.get(request.query_params.get("access_token", ""))
        if user is None:
            return _oauth_error("Invalid OAuth access token.")
        fields = request.query_params.get("fields", "id,name").split(",")
        profile = {
            "id": user.id,
            "email": user.email,
            "first_name": user.first_name,
            "last_name": user.last_name,
        }
        return JSONResponse(
            {name: profile[name] for name in fields if profile.get(name) is not None}
        )

    def __enter__(self) -> FakeFacebook:
        self.server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.stop()
