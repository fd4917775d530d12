"""The demo mailbox: every email the local mail sink received, as the recipient would see it.

Mounted only in demo mode (it shows everyone's mail). The HTML version of an email is shown in an
iframe whose ``srcdoc`` holds the escaped markup and whose sandbox has no ``allow-scripts`` and
no ``allow-same-origin``: the email cannot run code or read the portal's cookies, and its links
open in a new tab (``allow-popups`` with a ``<base target="_blank">``), so a person trying the
demo can click a verification link exactly as in a real mail client.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response

from domain.emails.mailsink import MailsinkStore
from portal.templating import settings_of, templates_of

PAGE_SIZE = 25
# Links in the email open outside the sandboxed frame; without this they would navigate the frame.
HTML_PREAMBLE = '<base target="_blank">'

router = APIRouter(prefix="/mailbox", tags=["demo mailbox"])


def _store(request: Request) -> MailsinkStore:
    return MailsinkStore(settings_of(request).mailsink_dir)


def _page_url(request: Request, to: str, page: int) -> str:
    query = {key: value for key, value in (("to", to), ("page", page)) if value and value != 1}
    base = str(request.url_for("mailbox_list"))
    return f"{base}?{urlencode(query)}" if query else base


@router.get("", response_class=HTMLResponse, name="mailbox_list")
def mailbox_list(
    request: Request,
    to: Annotated[str, Query(max_length=320)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    store = _store(request)
    to = to.strip()
    # One more than a page tells whether there is a next page without counting everything.
    found = store.list(limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE, to=to or None)
    messages = found[:PAGE_SIZE]
    first = (page - 1) * PAGE_SIZE + 1
    return templates_of(request).TemplateResponse(
        request,
        "mailbox/list.html",
        {
            "messages": messages,
            "to": to,
            "page": page,
            "first": first,
            "last": first + len(messages) - 1,
            "total": None if to else store.count(),
            "previous_url": _page_url(request, to, page - 1) if page > 1 else None,
            "next_url": _page_url(request, to, page + 1) if len(found) > PAGE_SIZE else None,
            "directory": store.path,
        },
    )


@router.get("/{message_id}", response_class=HTMLResponse, name="mailbox_show")
def mailbox_show(
    request: Request,
    message_id: str,
    to: Annotated[str, Query(max_length=320)] = "",
) -> Response:
    mail = _store(request).get(message_id)
    if mail is None:
        raise HTTPException(status_code=404, detail="No such message in the mailbox.")
    return templates_of(request).TemplateResponse(
        request,
        "mailbox/show.html",
        {
            "mail": mail,
            "srcdoc": HTML_PREAMBLE + mail.html if mail.html is not None else None,
            "back_url": _page_url(request, to.strip(), 1),
            "to": to.strip(),
        },
        # The frame's content is foreign markup: never send the portal's address along with the
        # requests for its images or the clicks on its links.
        headers={"Referrer-Policy": "no-referrer"},
    )


@router.get("/{message_id}/raw", name="mailbox_raw")
def mailbox_raw(request: Request, message_id: str) -> Response:
    raw = _store(request).raw(message_id)
    if raw is None:
        raise HTTPException(status_code=404, detail="No such message in the mailbox.")
    return Response(
        raw,
        media_type="text/plain; charset=utf-8",
        headers={"X-Content-Type-Options": "nosniff"},
    )
