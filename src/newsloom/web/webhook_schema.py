"""The webhook payload as an OpenAPI 3.1 ``webhooks`` entry of the JSON API (shown in /api/v1/docs).

The model only documents what ``notify/webhook.py`` sends (``WebhookEvent.json_body``); a test compares the two.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Header
from pydantic import BaseModel, Field

WEBHOOK_DESCRIPTION = """A signed POST to the reader's webhook URL for each event of a follow told by webhook.

Headers: `Webhook-Id` (the event's idempotency key, the same on every retry: drop ids you saw),
`Webhook-Timestamp` (Unix seconds), `X-Newsloom-Signature: t=<timestamp>,v1=<hex HMAC-SHA256 of
"<timestamp>.<raw body>" keyed with your signing secret>`, `X-Newsloom-Event` (the type). Refuse signatures
more than 5 minutes from your clock (replays). Answer 2xx within 10 s; anything else is retried with
exponential backoff (30 s doubling, at most 4 h apart) for a day, then marked failed on your notifications page.
"""


class WebhookPayload(BaseModel):
    id: str = Field(description="Idempotency key of this event for this URL; identical on retries.")
    type: str = Field(description="new_outlet | new_claim | figure_differs | new_story | test")
    created_at: str = Field(description="When the event was recorded (ISO 8601, UTC).")
    story_id: str | None = Field(description="The story the event is about.")
    title: str
    body: str
    url: str | None = Field(description="The story in the reader, when the server's public_url is set.")
    data: dict[str, Any] = Field(
        description="Details by type: article_id, outlet, headline; sentence (new_claim); earlier, now, "
        "earlier_sentence (figure_differs); matched {kind, value} (new_story)."
    )


def document_webhooks(api: FastAPI) -> None:
    @api.webhooks.post("notification", summary="Notification event", description=WEBHOOK_DESCRIPTION)
    def notification(
        payload: WebhookPayload,
        webhook_id: str = Header(alias="Webhook-Id"),
        webhook_timestamp: str = Header(alias="Webhook-Timestamp"),
        signature: str = Header(alias="X-Newsloom-Signature"),
    ) -> None:
        """Documentation only: newsloom sends this, it does not receive it."""
