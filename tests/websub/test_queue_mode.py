"""Queue mode (PostgreSQL + Redis): a verified push is stored by the web process and its story assignment is
queued for the assigner, as every other ingest path does there."""

from __future__ import annotations

from pathlib import Path

from newsloom.storage.websub_store import SqlWebSubStore
from newsloom.workers.queue import queue_lengths
from tests.storage.conftest import fresh_pg_schema
from tests.websub.conftest import running_push
from tests.websub.test_subscriber import pushed_body, sign
from tests.workers.conftest import RedisSpace, redis_space  # noqa: F401  (the fixture)


def test_a_push_in_queue_mode_is_stored_and_its_assignment_queued(tmp_path: Path, redis_space: RedisSpace) -> None:  # noqa: F811
    with fresh_pg_schema("newsloom_websub_q") as url, running_push(
        tmp_path, url, queue_url=redis_space.url, queue_prefix=redis_space.prefix
    ) as push:
        source_id = push.subscribe_source()
        store = SqlWebSubStore.for_storage(push.service.storage)
        sub = store.put_subscription(source_id, hub_url=push.hub.url, topic_url=push.feed_url, secret="k" * 43,
                                     now=push.service.now())  # fmt: skip
        store.update_subscription(sub.id, state="active", requested_at=None)
        body = pushed_body(push, 7)
        forged = push.client.post(f"/websub/callback/{sub.id}", content=body, headers={"X-Hub-Signature": sign("x", body)})
        assert forged.status_code == 403
        answer = push.client.post(f"/websub/callback/{sub.id}", content=body,
                                  headers={"X-Hub-Signature": sign(sub.secret, body)})  # fmt: skip
        assert answer.status_code == 200
        article = push.service.storage.find_article(canonical_url=f"{push.feeds.base_url}/articles/7")
        assert article is not None and article.story_id is None  # the assigner's job in queue mode
        assert queue_lengths(push.settings)[f"{redis_space.prefix}.assign"] == 1
