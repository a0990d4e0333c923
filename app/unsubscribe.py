"""One-click unsubscribe (RFC 8058): `POST /unsubscribe?token=...` turns that kind's email off.

`GET` shows a tiny confirmation page whose form POSTs, so link scanners that follow GET
links never unsubscribe anyone.
"""

from __future__ import annotations

from html import escape
from urllib.parse import urlencode

from sqlalchemy.exc import IntegrityError
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from app.resources import Resources
from app.services.notifications.preferences import read_unsubscribe_token, set_preference


def _invalid() -> JSONResponse:
    return JSONResponse(
        {"error": {"code": "INVALID_TOKEN", "message": "This unsubscribe link is not valid."}},
        status_code=400,
    )


async def unsubscribe(request: Request) -> Response:
    resources: Resources = request.app.state.resources
    token = request.query_params.get("token", "")
    parsed = read_unsubscribe_token(resources.settings.signing_key, token)
    if parsed is None:
        return _invalid()
    user_id, kind = parsed
    if request.method == "GET":
        action = escape(f"/unsubscribe?{urlencode({'token': token})}", quote=True)
        label = escape(kind.replace("_", " "))
        return HTMLResponse(
            '<!doctype html><html><head><meta charset="utf-8"><title>Unsubscribe</title>'
            f'</head><body><p>Stop {label} emails?</p><form method="post" action="{action}">'
            '<input type="hidden" name="List-Unsubscribe" value="One-Click">'
            '<button type="submit">Unsubscribe</button></form></body></html>'
        )
    try:
        async with resources.session_factory() as session, session.begin():
            await set_preference(session, user_id, kind, "email", False)
    except IntegrityError:  # the account is gone: there is nothing left to send to
        pass
    return JSONResponse({"status": "unsubscribed", "kind": kind, "channel": "email"})
