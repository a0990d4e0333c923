"""Signed, expiring download links of invoice PDFs: `GET /invoices/{id}/pdf?expires=&signature=`.

The signature is HMAC-SHA256 of "{id}:{expires}" under a key derived from the signing key
for this purpose only (as app/services/notifications/preferences.py derives the unsubscribe
key), so no other token of the project is a valid link and a link says nothing of the key.
The signature is checked before the expiry and before the database is asked: an unsigned
request learns nothing, not even whether the invoice exists.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import datetime
from urllib.parse import urlencode

from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from app.resources import Resources
from app.services.payments.invoice_pdf import render_pdf
from app.services.payments.invoices import display_number
from app.settings import Settings
from models.payments import Invoice

INVOICE_LINK_KEY_LABEL = b"commerce/invoice-download/v1"
MAX_ID = 2**63 - 1  # BIGINT: a larger id cannot exist (and must not reach the database)
_EXPIRES = re.compile(r"[1-9][0-9]{0,11}")  # canonical unix seconds, before year 5000
_SIGNATURE = re.compile(r"[0-9a-f]{64}")


def invoice_link_key(signing_key: str) -> bytes:
    """The key of invoice links: derived from the signing key, never the key itself."""
    return hmac.new(signing_key.encode(), INVOICE_LINK_KEY_LABEL, hashlib.sha256).digest()


def _signature(signing_key: str, invoice_id: int, expires: int) -> str:
    message = f"{invoice_id}:{expires}".encode()
    return hmac.new(invoice_link_key(signing_key), message, hashlib.sha256).hexdigest()


def invoice_url(settings: Settings, *, invoice_id: int, now: datetime) -> str:
    """A link to the invoice's PDF, valid INVOICE_URL_TTL_SECONDS from `now`."""
    expires = int(now.timestamp()) + settings.invoice_url_ttl_seconds
    query = urlencode(
        {"expires": expires, "signature": _signature(settings.signing_key, invoice_id, expires)}
    )
    return f"{settings.public_base_url.rstrip('/')}/invoices/{invoice_id}/pdf?{query}"


def _error(code: str, message: str, status_code: int) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status_code)


def _signed(signing_key: str, invoice_id: int, expires: str, signature: str) -> bool:
    if not (_EXPIRES.fullmatch(expires) and _SIGNATURE.fullmatch(signature)):
        return False
    expected = _signature(signing_key, invoice_id, int(expires))
    return hmac.compare_digest(signature, expected)


async def download_invoice(request: Request) -> Response:
    """The PDF of a signed, unexpired link; 403 for a bad or old link, 404 for none."""
    resources: Resources = request.app.state.resources
    invoice_id = request.path_params["invoice_id"]
    expires = request.query_params.get("expires", "")
    signature = request.query_params.get("signature", "")
    if not _signed(resources.settings.signing_key, invoice_id, expires, signature):
        return _error("INVALID_SIGNATURE", "This invoice link is not valid.", 403)
    if int(expires) <= int(datetime.now().timestamp()):
        return _error("LINK_EXPIRED", "This invoice link has expired.", 403)
    invoice = None
    if 0 < invoice_id <= MAX_ID:
        async with resources.session_factory() as session:
            invoice = await session.scalar(select(Invoice).where(Invoice.id == invoice_id))
    if invoice is None:
        return _error("NOT_FOUND", "No such invoice.", 404)
    # Rendering is CPU work of tens of milliseconds: keep it off the event loop.
    body = await run_in_threadpool(render_pdf, invoice)
    return Response(
        body,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{display_number(invoice)}.pdf"',
            "Cache-Control": "private, no-store",
        },
    )
