"""The WebSub callback: hubs verify our subscription requests (GET) and deliver new content (POST) here.

Not a reader page: no session, no CSRF token (hubs have neither). Authenticity comes from the subscription's
HMAC secret, checked on every delivery by the service; the body is read with the fetcher's size limit, so an
oversized POST is cut off at the limit (413) rather than read into memory.
"""

from __future__ import annotations

import asyncio
import logging

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response

from newsloom.ingest.websub import CALLBACK_PATH
from newsloom.web.auth import reader_of

router = APIRouter(include_in_schema=False)
log = logging.getLogger(__name__)


@router.get(CALLBACK_PATH + "{subscription_id}")
def verify_intent(request: Request, subscription_id: int) -> Response:
    answer = reader_of(request).websub_verify(subscription_id, dict(request.query_params))
    if not answer.accept:
        return PlainTextResponse("no such subscription request", status_code=404)
    return PlainTextResponse(answer.challenge, status_code=200)  # a "denied" notice is acknowledged empty


@router.post(CALLBACK_PATH + "{subscription_id}")
async def deliver(request: Request, subscription_id: int) -> Response:
    reader = reader_of(request)
    limit = reader.service.settings.max_body_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return _too_large(subscription_id, limit)
    pieces: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return _too_large(subscription_id, limit)
        pieces.append(chunk)
    headers = {name.lower(): value for name, value in request.headers.items()}
    delivery = await asyncio.wrap_future(reader.websub_deliver(subscription_id, b"".join(pieces), headers))
    return PlainTextResponse(delivery.reason, status_code=delivery.status)


def _too_large(subscription_id: int, limit: int) -> Response:
    log.warning("WebSub delivery to callback %s refused (413): body over the %d-byte limit", subscription_id, limit)
    return PlainTextResponse(f"body over the {limit}-byte limit", status_code=413)
