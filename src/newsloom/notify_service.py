"""The notification use cases: settings, the in-app list, delivery, digests, unsubscribe, test events.

``NotifyService`` sits on a ``ReaderService`` (for ranking and accounts) like the web routes do; the CLI, the
web app and the in-process notifier all call it. Delivery itself is ``notify/deliver.py``; events are stored by
the intake's hook (``notify/hook.py``).
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime

from newsloom.errors import DeliveryError, FetchError, InputError, NotFoundError
from newsloom.ingest.netguard import AddressPolicy
from newsloom.notify.deliver import DeliveryReport, deliver_due, story_url
from newsloom.notify.digest import (
    DIGEST_PERIODS,
    Digest,
    DigestChange,
    DigestStory,
    build_digest,
    due_before,
    is_due,
    unsubscribe_token,
    unsubscribe_user,
)
from newsloom.notify.mail import check_address, new_message, send_message
from newsloom.reader_service import ReaderService
from newsloom.storage.accounts_base import FollowChannel, User
from newsloom.storage.notify_base import DIGEST_FREQUENCIES, Delivery, NewEvent, Notification, NotifySettings
from newsloom.storage.notify_store import SqlNotifyStore

log = logging.getLogger(__name__)

DIGEST_STORIES = 10


@dataclass(frozen=True, slots=True)
class DryRunLine:
    channel: str
    destination: str
    title: str
    key: str


class NotifyService:
    def __init__(self, reader: ReaderService) -> None:
        self.reader = reader
        self.settings = reader.service.settings
        self.store = SqlNotifyStore.for_storage(reader.service.storage)

    def now(self) -> datetime:
        return self.reader.now()

    # -- reader settings ------------------------------------------------------------------------------------

    def notify_settings(self, user: User) -> NotifySettings:
        return self.store.get_notify_settings(user.id)

    def update_settings(
        self, user: User, *, email: str | None = None, digest: str | None = None, webhook_url: str | None = None
    ) -> NotifySettings:
        """Change what is given (an empty string clears the e-mail or webhook). A new webhook URL gets a new secret."""
        changes: dict[str, object] = {}
        if email is not None:
            changes["email"] = check_address(email) if email.strip() else None
        if digest is not None:
            if digest not in DIGEST_FREQUENCIES:
                raise InputError(f"digest is one of {', '.join(DIGEST_FREQUENCIES)}")
            changes["digest"] = digest
        current = self.store.get_notify_settings(user.id)
        if webhook_url is not None:
            url = webhook_url.strip()
            if url:
                try:
                    AddressPolicy.from_settings(self.settings).check_url(url)
                except FetchError as exc:
                    raise InputError(f"webhook URL refused: {exc.reason}") from exc
                if url != current.webhook_url or not current.webhook_secret:
                    changes["webhook_secret"] = secrets.token_urlsafe(32)
                changes["webhook_url"] = url
            else:
                changes.update(webhook_url=None, webhook_secret=None)
        if changes.get("digest", current.digest) != "off" and not changes.get("email", current.email):
            raise InputError("a digest needs an e-mail address")
        return self.store.update_notify_settings(user.id, **changes)

    def set_follow_channel(self, user: User, kind: str, value: str, channel: str) -> bool:
        wanted: FollowChannel = "email" if channel == "email" else "webhook" if channel == "webhook" else "in_app"
        if channel != wanted:
            raise InputError("a follow is told in_app, by email or by webhook")
        follow = next((f for f in self.reader.accounts.list_follows(user.id) if f.kind == kind and f.value == value.strip()), None)
        if follow is None:
            raise NotFoundError(f"you do not follow {kind} {value!r}")
        return self.reader.accounts.set_follow_channel(user.id, follow.kind, follow.value, wanted)

    # -- in-app ---------------------------------------------------------------------------------------------

    def notifications(self, user: User, *, limit: int = 50, offset: int = 0) -> list[Notification]:
        return self.store.list_notifications(user.id, limit=limit, offset=offset)

    def unread_count(self, user: User) -> int:
        return self.store.count_unread(user.id)

    def mark_read(self, user: User, ids: list[int] | None = None) -> int:
        return self.store.mark_notifications_read(user.id, now=self.now(), ids=ids)

    def failed_deliveries(self, user: User, *, limit: int = 20) -> list[Delivery]:
        return self.store.list_deliveries(user.id, status="failed", limit=limit)

    def deliveries(self, user: User, *, limit: int = 20) -> list[Delivery]:
        return self.store.list_deliveries(user.id, limit=limit)

    # -- delivery -------------------------------------------------------------------------------------------

    def deliver(self, *, limit: int = 200, user_id: int | None = None) -> DeliveryReport:
        return deliver_due(self.store, self.settings, now=self.now, limit=limit, user_id=user_id)

    def dry_run(self, *, limit: int = 100) -> list[DryRunLine]:
        """What the next delivery run would send, without sending or claiming anything."""
        return [
            DryRunLine(d.channel, d.destination, d.notification.title, d.idempotency_key)
            for d in self.store.pending_deliveries(now=self.now(), limit=limit)
        ]

    def send_test_event(self, user: User) -> DeliveryReport:
        """A test event to the reader's webhook, delivered at once (the reader sees the outcome)."""
        current = self.store.get_notify_settings(user.id)
        if not current.webhook_url:
            raise InputError("set a webhook URL first")
        now = self.now()
        key = f"test:{now.isoformat()}:{secrets.token_hex(4)}"
        event = NewEvent(key, "test", None, "Test event from newsloom", "Your webhook works.", '{"test": true}')
        self.store.record_event(user.id, event, [("webhook", current.webhook_url)], now=now)
        return self.deliver(limit=5, user_id=user.id)

    # -- digests --------------------------------------------------------------------------------------------

    def unsubscribe_url(self, user_id: int) -> str | None:
        base = self.settings.public_url.rstrip("/")
        return f"{base}/unsubscribe/{unsubscribe_token(self.reader.secret_key, user_id)}" if base else None

    def unsubscribe(self, token: str) -> bool:
        """One-click unsubscribe: stop the digest of the reader this token was made for."""
        user_id = unsubscribe_user(self.reader.secret_key, token.strip())
        if user_id is None:
            return False
        try:
            self.store.update_notify_settings(user_id, digest="off")
        except NotFoundError:
            return False
        return True

    def top_digest_stories(self, user: User | None) -> list[DigestStory]:
        picked: list[DigestStory] = []
        if user is not None:
            picked = [
                DigestStory(r.story.id, r.story.headline, r.reason, story_url(self.settings, r.story.id))
                for r in self.reader.for_you(user, limit=DIGEST_STORIES)
            ]
        seen = {s.story_id for s in picked}
        for ranked in self.reader.top_stories(limit=DIGEST_STORIES):
            if len(picked) >= DIGEST_STORIES:
                break
            if ranked.story.id not in seen:
                picked.append(DigestStory(ranked.story.id, ranked.story.headline, ranked.why, story_url(self.settings, ranked.story.id)))
        return picked

    def build_digest(self, user: User | None, *, period: str, since: datetime | None) -> Digest:
        changes: list[DigestChange] = []
        if user is not None and since is not None:
            changes = [
                DigestChange(n.title, n.body, story_url(self.settings, n.story_id))
                for n in self.store.list_notifications(user.id, since=since, limit=50)
                if n.kind != "test"
            ]
        base = self.settings.public_url.rstrip("/") or None
        return build_digest(
            reader_name=user.username if user is not None else "you", period=period,
            stories=self.top_digest_stories(user), changes=changes, now=self.now(), home_url=base,
            unsubscribe_url=self.unsubscribe_url(user.id) if user is not None else None,
        )  # fmt: skip

    def _send_digest(self, to: str, digest: Digest, *, unsubscribe_url: str | None) -> None:
        headers = {}
        if unsubscribe_url:
            headers = {"List-Unsubscribe": f"<{unsubscribe_url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
        message = new_message(self.settings, to, digest.subject, digest.text, digest.html, now=self.now(), headers=headers)
        send_message(self.settings, message)

    def send_digest_now(self, to: str) -> Digest:
        """``newsloom digest --to ADDRESS --now``: the current top stories to that address, at once."""
        address = check_address(to)
        digest = self.build_digest(None, period="now", since=None)
        self._send_digest(address, digest, unsubscribe_url=None)
        return digest

    def due_digests(self) -> list[NotifySettings]:
        now = self.now()
        return [s for s in self.store.digest_readers() if is_due(s.digest, s.last_digest_at, now)]

    def send_due_digests(self, *, limit: int = 1000) -> DeliveryReport:
        """Send every digest whose period has passed; a failure is logged and retried on the next run.

        Each digest is claimed in the database before it is built (``claim_digest``), so two notifiers or
        workers running at once send it once; a failed send gives the claim back. A process killed between
        claim and send skips that one period rather than risk sending it twice.
        """
        report = DeliveryReport()
        for reader_settings in self.due_digests()[:limit]:
            now = self.now()
            user_id, previous = reader_settings.user_id, reader_settings.last_digest_at
            if not self.store.claim_digest(user_id, now=now, due_before=due_before(reader_settings.digest, now)):
                continue  # another sender has it
            try:
                user = self.reader.accounts.get_user(user_id)
                since = previous or now - DIGEST_PERIODS[reader_settings.digest]
                digest = self.build_digest(user, period=reader_settings.digest, since=since)
                assert reader_settings.email is not None  # digest_readers only lists readers with an address
                self._send_digest(reader_settings.email, digest, unsubscribe_url=self.unsubscribe_url(user.id))
            except (DeliveryError, InputError, NotFoundError) as exc:
                self.store.release_digest(user_id, claimed_at=now, previous=previous)
                log.error("digest for reader %d failed: %s", user_id, exc)
                report.errors.append(f"digest for reader {user_id}: {exc}")
                report.retrying += 1
                continue
            except BaseException:
                self.store.release_digest(user_id, claimed_at=now, previous=previous)
                raise
            report.sent += 1
        return report

    def run_once(self) -> DeliveryReport:
        """One tick of the notifier: pending deliveries, then due digests."""
        report = self.deliver()
        if self.settings.smtp_host and self.settings.mail_from:
            digests = self.send_due_digests()
            report.sent += digests.sent
            report.retrying += digests.retrying
            report.errors += digests.errors
        return report
