"""A fake Google: publishes a JWKS of test RSA keys and signs real RS256 ID tokens with them."""

from __future__ import annotations

import time
import uuid
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.fakes.local_server import LocalServer

ISSUER = "https://accounts.google.com"
CLIENT_ID = "test-client.apps.googleusercontent.com"


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class FakeGoogle:
    """`jwks_url` serves the public halves of `keys`; `fetches` counts JWKS downloads."""

    def __init__(self) -> None:
        self.kid = uuid.uuid4().hex
        self.keys: dict[str, rsa.RSAPrivateKey] = {self.kid: new_key()}
        self.fetches = 0
        self.server = LocalServer(Starlette(routes=[Route("/oauth2/v3/certs", self._certs)]))
        self.jwks_url = f"{self.server.url}/oauth2/v3/certs"

    async def _certs(self, request: Request) -> JSONResponse:
        self.fetches += 1
        keys = []
        for kid, key in self.keys.items():
            jwk = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
            keys.append({**jwk, "kid": kid, "alg": "RS256", "use": "sig"})
        return JSONResponse({"keys": keys}, headers={"Cache-Control": "public, max-age=3600"})

    def claims(self, **overrides: Any) -> dict[str, Any]:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "azp": CLIENT_ID,
            "aud": CLIENT_ID,
            "sub": "10769150350006150715113082367",
            "email": "jane.doe@gmail.com",
            "email_verified": True,
            "given_name": "Jane",
            "family_name": "Doe",
            "iat": now,
            "exp": now + 3600,
        }
        claims.update(overrides)
        return {key: value for key, value in claims.items() if value is not None}

    def id_token(
        self,
        *,
        key: rsa.RSAPrivateKey | None = None,
        kid: str | None = None,
        **claims: Any,
    ) -> str:
        """An RS256 ID token; by default signed with the published key."""
        return jwt.encode(
            self.claims(**claims),
            key or self.keys[self.kid],
            algorithm="RS256",
            headers={"kid": kid or self.kid},
        )

    def __enter__(self) -> FakeGoogle:
        self.server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.stop()
