"""Redis broker: a task whose taker was SIGKILLed comes back in bounded time, even if the taker died while
holding kombu's restore lock (which by kombu's default would stop every restore for five minutes)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time

import pytest

from newsloom.settings import load_settings
from newsloom.workers.app import UNACKED_MUTEX_EXPIRE_S, producer_app
from newsloom.workers.config import queue_config, queue_name
from newsloom.workers.inbox import Inbox
from newsloom.workers.queue import Producer
from tests.workers.conftest import RedisSpace

VISIBILITY_TIMEOUT_S = 1
# What may pass beyond the lock's expiry and the visibility timeout: sweeps every 0.2 s, a loaded machine.
SLACK_S = 8.0

# Takes the task (it is then unacknowledged), takes the restore lock as a sweeping consumer does, and dies.
DYING_TAKER = textwrap.dedent("""
    import os, signal, sys
    import kombu
    from newsloom.settings import load_settings
    from newsloom.workers.app import producer_app
    from newsloom.workers.config import queue_config
    settings = load_settings()
    app = producer_app(settings, queue_config(settings))
    connection = app.connection_for_read()
    channel = connection.channel()
    name = sys.argv[1]
    queue = kombu.Queue(name, kombu.Exchange(name, type="direct"), routing_key=name)(channel)
    assert queue.get(no_ack=False) is not None
    assert channel.client.lock(channel.unacked_mutex_key, timeout=channel.unacked_mutex_expire).acquire(blocking=False)
    print("holding", flush=True)
    os.kill(os.getpid(), signal.SIGKILL)
""")


def test_a_killed_takers_task_comes_back_although_it_held_the_restore_lock(
    redis_space: RedisSpace, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {**redis_space.env(), "NEWSLOOM_QUEUE_VISIBILITY_TIMEOUT_S": str(VISIBILITY_TIMEOUT_S)}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    settings = load_settings()
    config = queue_config(settings)
    producer = Producer(settings, config)
    queue = queue_name(config, "fetch")
    inbox = Inbox(producer_app(settings, config), queue, batch_max=1, restore_interval_s=0.2)
    try:
        inbox._open()  # declare the queue and its binding before sending
        producer.enqueue_story_pages(["s1"])
        assert producer.queue_length(queue) == 1
        taker = subprocess.run([sys.executable, "-c", DYING_TAKER, queue], capture_output=True, text=True, timeout=60)
        assert "holding" in taker.stdout, taker.stderr
        assert producer.queue_length(queue) == 0  # taken, never acknowledged
        locks = list(redis_space.client.scan_iter(match=f"{redis_space.prefix}*unacked_mutex*"))
        assert len(locks) == 1 and 0 < redis_space.client.pttl(locks[0]) <= UNACKED_MUTEX_EXPIRE_S * 1000

        died = time.monotonic()
        channel = inbox._queue.channel
        while producer.queue_length(queue) == 0:
            assert time.monotonic() - died < UNACKED_MUTEX_EXPIRE_S + VISIBILITY_TIMEOUT_S + SLACK_S, "not restored"
            channel.qos.restore_visible(num=10, interval=1)
            time.sleep(0.2)
        back = inbox.take()
        assert len(back) == 1 and back[0].delivery_info.get("redelivered") is not False
        back[0].ack()
    finally:
        inbox.close()
        producer.close()

