"""A fake web push service: checks the VAPID Authorization header (ES256 JWT signed by the
key in k=, aud = this origin, exp in the future), decrypts the aes128gcm body with the
subscription's private key, and records the JSON; endpoints can be scripted to answer 410."""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from dataclasses import dataclass, field

import http_ece
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from tests.fakes.local_server import LocalServer


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class BrowserSubscription:
    """What a browser keeps: the endpoint, its P-256 key pair and the auth secret."""

    endpoint: str
    private_key: ec.EllipticCurvePrivateKey
    auth: bytes = field(default_factory=lambda: uuid.uuid4().bytes)

    @property
    def p256dh(self) -> str:
        public = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return b64url(public)

    @property
    def auth_b64(self) -> str:
        return b64url(self.auth)


@dataclass(frozen=True)
class ReceivedPush:
    endpoint: str
    payload: dict[str, object]
    topic: str | None
    ttl: str | None
    vapid_public_key: str
    claims: dict[str, object]


class FakePushService:
    def __init__(self) -> None:
        self.received: list[ReceivedPush] = []
        self.rejected: list[str] = []
        self.gone: set[str] = set()
        self._subscriptions: dict[str, BrowserSubscription] = {}
        self._lock = threading.Lock()
        self.server = LocalServer(
            Starlette(routes=[Route("/push/{name}", self._push, methods=["POST"])])
        )
        self.url = self.server.url

    def subscribe(self) -> BrowserSubscription:
        subscription = BrowserSubscription(
            endpoint=f"{self.url}/push/{uuid.uuid4().hex}",
            private_key=ec.generate_private_key(ec.SECP256R1()),
        )
        self._subscriptions[subscription.endpoint] = subscription
        return subscription

    def _verify_vapid(self, header: str) -> tuple[str, dict[str, object]]:
        scheme, _, rest = header.partition(" ")
        if scheme.lower() != "vapid":
            raise ValueError(f"scheme {scheme!r}")
        params = dict(part.strip().split("=", 1) for part in rest.split(","))
        token, key = params["t"], params["k"]
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(key))
        head, body, signature = token.split(".")
        if json.loads(unb64url(head)).get("alg") != "ES256":
            raise ValueError("alg is not ES256")
        raw = unb64url(signature)
        der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
        public.verify(der, f"{head}.{body}".encode(), ec.ECDSA(hashes.SHA256()))
        claims = json.loads(unb64url(body))
        if claims.get("aud") != self.url:
            raise ValueError(f"aud {claims.get('aud')!r} is not {self.url!r}")
        if not isinstance(claims.get("exp"), int) or claims["exp"] <= time.time():
            raise ValueError("expired")
        return key, claims

    async def _push(self, request: Request) -> Response:
        endpoint = f"{self.url}/push/{request.path_params['name']}"
        try:
            key, claims = self._verify_vapid(request.headers.get("authorization", ""))
        except (ValueError, KeyError, InvalidSignature) as exc:
            with self._lock:
                self.rejected.append(f"{type(exc).__name__}: {exc}")
            return PlainTextResponse("bad VAPID", status_code=401)
        if endpoint in self.gone:
            return PlainTextResponse("gone", status_code=410)
        subscription = self._subscriptions.get(endpoint)
        if subscription is None:
            return PlainTextResponse("no such subscription", status_code=404)
        if request.headers.get("content-encoding") != "aes128gcm":
            return PlainTextResponse("aes128gcm only", status_code=415)
        plain = http_ece.decrypt(
            await request.body(),
            private_key=subscription.private_key,
            auth_secret=subscription.auth,
            version="aes128gcm",
        )
        with self._lock:
            self.received.append(
                ReceivedPush(
                    endpoint=endpoint,
                    payload=json.loads(plain),
                    topic=request.headers.get("topic"),
                    ttl=request.headers.get("ttl"),
                    vapid_public_key=key,
                    claims=claims,
                )
            )
        return Response(status_code=201, headers={"Location": f"{endpoint}/m/{uuid.uuid4()}"})

    def __enter__(self) -> FakePushService:
        self.server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.stop()
