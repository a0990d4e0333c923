"""A fake Twilio Messages API: Basic auth, E.164 and Body checks, idempotency tokens,
scripted failures (500/429), and a record of the accepted messages."""

from __future__ import annotations

import base64
import re
import threading
import uuid
from dataclasses import dataclass
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.fakes.local_server import LocalServer

ACCOUNT_SID = "AC" + "0" * 31 + "1"
AUTH_TOKEN = "fake-twilio-auth-token-0123456789"
E164 = re.compile(r"^\+[1-9]\d{1,14}$")


@dataclass(frozen=True)
class SentSms:
    sid: str
    to: str
    from_: str | None
    messaging_service_sid: str | None
    body: str
    idempotency_token: str | None
    username: str


def _error(status: int, code: int, message: str) -> JSONResponse:
    return JSONResponse(
        {
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        },
        status_code=status,
    )


class FakeTwilio:
    def __init__(self, account_sid: str = ACCOUNT_SID, auth_token: str = AUTH_TOKEN) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.messages: list[SentSms] = []
        self.requests = 0
        self._by_token: dict[str, SentSms] = {}
        self._failures: list[int] = []
        self._lock = threading.Lock()
        self.server = LocalServer(
            Starlette(
                routes=[
                    Route(
                        "/2010-04-01/Accounts/{sid}/Messages.json",
                        self._create_message,
                        methods=["POST"],
                    )
                ]
            )
        )
        self.url = self.server.url

    def fail_next(self, n: int, status: int = 500) -> None:
        """Answer the next `n` requests with `status` (500 or 429)."""
        with self._lock:
            self._failures.extend([status] * n)

    def _credentials(self, request: Request) -> tuple[str, str] | None:
        header = request.headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            user, _, password = base64.b64decode(value).decode().partition(":")
        except ValueError:
            return None
        return user, password

    async def _create_message(self, request: Request) -> JSONResponse:
        with self._lock:
            self.requests += 1
            failure = self._failures.pop(0) if self._failures else None
        if failure == 429:
            return _error(429, 20429, "Too Many Requests")
        if failure is not None:
            return _error(failure, 20500, "Internal Server Error")
        credentials = self._credentials(request)
        if credentials != (self.account_sid, self.auth_token) or (
            request.path_params["sid"] != self.account_sid
        ):
            return _error(401, 20003, "Authenticate")
        # urlencoded form, parsed by hand (python-multipart is not a dependency)
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
        to = str(form.get("To") or "")
        body = str(form.get("Body") or "")
        sender = form.get("From")
        service = form.get("MessagingServiceSid")
        if not E164.match(to):
            return _error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        if not body:
            return _error(400, 21602, "Message body is required.")
        if not sender and not service:
            return _error(400, 21603, "A 'From' or 'MessagingServiceSid' parameter is required.")
        token = request.headers.get("i-twilio-idempotency-token")
        with self._lock:
            message = self._by_token.get(token) if token else None
            if message is None:
                message = SentSms(
                    sid="SM" + uuid.uuid4().hex,
                    to=to,
                    from_=str(sender) if sender else None,
                    messaging_service_sid=str(service) if service else None,
                    body=body,
                    idempotency_token=token,
                    username=self.account_sid,
                )
                self.messages.append(message)
                if token:
                    self._by_token[token] = message
        return JSONResponse(
            {
                "sid": message.sid,
                "account_sid": self.account_sid,
                "to": message.to,
                "from": message.from_,
                "messaging_service_sid": message.messaging_service_sid,
                "body": message.body,
                "status": "queued",
            },
            status_code=201,
        )

    def __enter__(self) -> FakeTwilio:
        self.server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.stop()
