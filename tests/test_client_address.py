"""The client address behind proxies: only TRUSTED_PROXIES may say who the client is."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from httpx import ASGITransport, AsyncClient
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from app.client_address import ClientAddressMiddleware, client_from_forwarded, parse_networks
from tests.conftest import make_settings

PROXIES = parse_networks(["10.0.0.0/8", "192.168.1.7"])


@pytest.mark.parametrize(
    ("peer", "header", "client"),
    [
        # no proxy in front: the header is the client's own words
        ("203.0.113.9", "1.2.3.4", "203.0.113.9"),
        # a trusted proxy appended the address it saw
        ("10.1.2.3", "198.51.100.20", "198.51.100.20"),
        # a client-written entry to the left of the proxy's is never believed
        ("10.1.2.3", "1.2.3.4, 198.51.100.20", "198.51.100.20"),
        # two trusted hops: skip both
        ("10.1.2.3", "198.51.100.20, 192.168.1.7", "198.51.100.20"),
        # every hop trusted: the leftmost one is the best we know
        ("10.1.2.3", "10.9.9.9, 192.168.1.7", "10.9.9.9"),
        # garbage in the chain: stop at the last address we could trust
        ("10.1.2.3", "1.2.3.4, not-an-ip", "10.1.2.3"),
        ("10.1.2.3", "[2001:db8::1]:443", "2001:db8::1"),
        ("10.1.2.3", "198.51.100.20:5555", "198.51.100.20"),
        ("::ffff:10.1.2.3", "198.51.100.20", "198.51.100.20"),
    ],
)
def test_the_client_is_the_first_untrusted_hop_from_the_right(
    peer: str, header: str, client: str
) -> None:
    assert client_from_forwarded(peer, header, PROXIES) == client


def test_a_bad_trusted_proxies_entry_fails_at_start() -> None:
    with pytest.raises(ValidationError, match=r"not an IP address or network: 'ten\.0\.0\.1'"):
        make_settings(trusted_proxies="10.0.0.0/8, ten.0.0.1")


async def _seen(app: Any, peer: str, headers: dict[str, str]) -> dict[str, Any]:
    transport = ASGITransport(app, client=(peer, 4321))
    async with AsyncClient(transport=transport, base_url="http://testserver") as http:
        return (await http.get("/", headers=headers)).json()


def _echo_app(trusted: list[str]) -> Any:
    async def echo(request: Request) -> JSONResponse:
        assert request.client is not None
        return JSONResponse({"client": request.client.host, "scheme": request.url.scheme})

    return ClientAddressMiddleware(Starlette(routes=[Route("/", echo)]), trusted_proxies=trusted)


async def test_forwarded_headers_from_an_untrusted_peer_change_nothing() -> None:
    app = _echo_app(["10.0.0.0/8"])
    forged = {"X-Forwarded-For": "1.2.3.4", "X-Forwarded-Proto": "https"}

    assert await _seen(app, "203.0.113.9", forged) == {"client": "203.0.113.9", "scheme": "http"}
    assert await _seen(app, "10.0.0.5", forged) == {"client": "1.2.3.4", "scheme": "https"}


async def test_with_no_trusted_proxies_the_peer_is_always_the_client() -> None:
    app = _echo_app([])

    seen = await _seen(app, "127.0.0.1", {"X-Forwarded-For": "1.2.3.4"})

    assert seen == {"client": "127.0.0.1", "scheme": "http"}


SIGN_IN = {
    "query": 'mutation { tokenCreate(email: "nobody@example.com", password: "x") '
    "{ userErrors { code } } }"
}


async def _sign_in_codes(app: Any, peer: str, forwarded: list[str]) -> list[str]:
    """The outcome of one sign-in attempt per X-Forwarded-For value, from `peer`."""
    codes = []
    transport = ASGITransport(app, client=(peer, 4321))
    async with AsyncClient(transport=transport, base_url="http://testserver") as http:
        for value in forwarded:
            body = (
                await http.post("/graphql", json=SIGN_IN, headers={"X-Forwarded-For": value})
            ).json()
            if "errors" in body:
                codes.append(body["errors"][0]["extensions"]["code"])
            else:
                codes.append(body["data"]["tokenCreate"]["userErrors"][0]["code"])
    return codes


async def test_a_forged_forwarded_header_does_not_escape_the_sign_in_limit(
    start_app: Callable[..., Any],
) -> None:
    limits = {"rate_limits_enabled": True, "rate_limit_sign_in_ip": "2/minute"}
    async with start_app(trusted_proxies=["10.0.0.0/8"], **limits) as (app, _):
        # From the open internet, a new X-Forwarded-For per attempt changes nothing.
        forged = await _sign_in_codes(app, "203.0.113.9", ["1.1.1.1", "2.2.2.2", "3.3.3.3"])
        # Behind the trusted proxy, each forwarded client has its own budget...
        proxied = await _sign_in_codes(app, "10.0.0.2", ["4.4.4.4", "5.5.5.5", "4.4.4.4"])
        # ...and a client cannot reset it by prepending an address of its choosing.
        prepended = await _sign_in_codes(app, "10.0.0.2", ["9.9.9.9, 4.4.4.4"])

    assert forged == ["INVALID_CREDENTIALS", "INVALID_CREDENTIALS", "RATE_LIMITED"]
    assert proxied == ["INVALID_CREDENTIALS", "INVALID_CREDENTIALS", "INVALID_CREDENTIALS"]
    assert prepended == ["RATE_LIMITED"]
