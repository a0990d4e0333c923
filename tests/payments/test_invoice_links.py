"""Signed, expiring invoice download links, over HTTP against the app."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from httpx import AsyncClient

from app.invoice_links import invoice_url
from app.services.payments.invoice_pdf import render_pdf
from app.services.payments.invoices import display_number, issue_invoice
from app.settings import Settings
from tests.conftest import TEST_SECRET, make_settings
from tests.payments.invoice_fixtures import LineSpec, make_order


def _path(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def _query(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


@pytest.fixture
async def invoice(session, settings: Settings):
    order, _ = await make_order(session, [LineSpec("Mug", "Blue", 1000)], gross=False)
    invoice = await issue_invoice(session, order=order, settings=settings)
    await session.commit()  # a savepoint of the test transaction: the app's session sees it
    return invoice


def test_invoice_url_is_signed_with_a_key_of_its_own() -> None:
    settings = make_settings(public_base_url="https://shop.example/", invoice_url_ttl_seconds=900)
    now = datetime(2024, 1, 1, tzinfo=UTC)  # 1704067200

    url = invoice_url(settings, invoice_id=42, now=now)

    key = hmac.new(TEST_SECRET.get_secret_value().encode(), b"commerce/invoice-download/v1",
                   hashlib.sha256).digest()  # fmt: skip
    signature = hmac.new(key, b"42:1704068100", hashlib.sha256).hexdigest()
    assert url == f"https://shop.example/invoices/42/pdf?expires=1704068100&signature={signature}"


async def test_a_valid_link_downloads_the_pdf(http: AsyncClient, settings, invoice) -> None:
    url = invoice_url(settings, invoice_id=invoice.id, now=datetime.now(UTC))

    response = await http.get(_path(url))

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    number = display_number(invoice)
    assert response.headers["content-disposition"] == f'attachment; filename="{number}.pdf"'
    assert response.headers["cache-control"] == "private, no-store"
    assert response.content.startswith(b"%PDF-")
    assert response.content == render_pdf(invoice)


def _forbidden(code: str) -> dict:
    messages = {"INVALID_SIGNATURE": "This invoice link is not valid.",
                "LINK_EXPIRED": "This invoice link has expired."}  # fmt: skip
    return {"error": {"code": code, "message": messages[code]}}


async def test_a_tampered_signature_is_refused(http: AsyncClient, settings, invoice) -> None:
    url = invoice_url(settings, invoice_id=invoice.id, now=datetime.now(UTC))
    query = _query(url)
    flipped = ("0" if query["signature"][0] != "0" else "1") + query["signature"][1:]
    path = f"/invoices/{invoice.id}/pdf"

    for params in (
        {"expires": query["expires"], "signature": flipped},
        {"expires": query["expires"], "signature": query["signature"].upper()},
        {"expires": str(int(query["expires"]) + 3600), "signature": query["signature"]},
        {"expires": "0" + query["expires"], "signature": query["signature"]},
        {"expires": query["expires"]},
        {"signature": query["signature"]},
        {},
    ):
        response = await http.get(path, params=params)
        assert response.status_code == 403, params
        assert response.json() == _forbidden("INVALID_SIGNATURE"), params


async def test_another_invoices_signature_is_refused(http: AsyncClient, settings, invoice) -> None:
    other = invoice_url(settings, invoice_id=invoice.id + 1, now=datetime.now(UTC))

    response = await http.get(f"/invoices/{invoice.id}/pdf", params=_query(other))

    assert response.status_code == 403
    assert response.json() == _forbidden("INVALID_SIGNATURE")


async def test_a_signature_under_the_raw_signing_key_is_refused(
    http: AsyncClient, settings, invoice
) -> None:
    expires = int(datetime.now(UTC).timestamp()) + 600
    raw = hmac.new(settings.signing_key.encode(), f"{invoice.id}:{expires}".encode(),
                   hashlib.sha256).hexdigest()  # fmt: skip

    response = await http.get(
        f"/invoices/{invoice.id}/pdf", params={"expires": expires, "signature": raw}
    )

    assert response.status_code == 403
    assert response.json() == _forbidden("INVALID_SIGNATURE")


async def test_an_expired_link_is_refused(http: AsyncClient, settings, invoice) -> None:
    then = datetime.now(UTC) - timedelta(seconds=settings.invoice_url_ttl_seconds + 1)
    url = invoice_url(settings, invoice_id=invoice.id, now=then)

    response = await http.get(_path(url))

    assert response.status_code == 403
    assert response.json() == _forbidden("LINK_EXPIRED")


async def test_an_unknown_invoice_is_not_found(http: AsyncClient, settings, invoice) -> None:
    for invoice_id in (invoice.id + 1000, 0, 2**63, 10**30):
        url = invoice_url(settings, invoice_id=invoice_id, now=datetime.now(UTC))

        response = await http.get(_path(url))

        assert response.status_code == 404, invoice_id
        assert response.json() == {"error": {"code": "NOT_FOUND", "message": "No such invoice."}}


async def test_odd_requests_are_client_errors(http: AsyncClient, settings, invoice) -> None:
    url = invoice_url(settings, invoice_id=invoice.id, now=datetime.now(UTC))
    query = _query(url)

    for path in ("/invoices/abc/pdf", "/invoices/-1/pdf", "/invoices/1.5/pdf", "/invoices//pdf"):
        response = await http.get(path, params=query)
        assert response.status_code == 404, path
    huge = {"expires": "9" * 400, "signature": query["signature"]}
    response = await http.get(f"/invoices/{invoice.id}/pdf", params=huge)
    assert response.status_code == 403
    assert response.json() == _forbidden("INVALID_SIGNATURE")
    response = await http.get(f"/invoices/{10**30}/pdf", params=query)
    assert response.status_code == 403
    response = await http.post(_path(url))
    assert response.status_code == 405
