"""Queue mode: the pipeline's stages as tasks on Celery (Redis or RabbitMQ), run by `newsloom worker`.

Nothing here is imported unless NEWSLOOM_QUEUE_URL is set; the default keeps everything in-process.
See docs/architecture-queue.md for the design and docs/deploy.md for running it.
"""

from __future__ import annotations

import importlib

from newsloom.errors import MissingExtraError

#: The modules of the ``queue`` extra that queue mode cannot start without.
QUEUE_EXTRA_MODULES = ("celery", "redis", "kombu")


def require_queue_extra() -> None:
    """Raise ``MissingExtraError`` naming the extra when Celery or redis-py cannot be imported.

    Called where queue mode starts (``newsloom worker``, ``scheduler``, a Service with a queue URL) so that a
    plain install says what to install instead of failing with a ModuleNotFoundError traceback.
    """
    for name in QUEUE_EXTRA_MODULES:
        try:
            importlib.import_module(name)
        except ImportError as exc:
            raise MissingExtraError(
                f"queue mode needs the queue extra, and {name} cannot be imported ({exc}): "
                "install newsloom[queue] (pip install 'newsloom[queue]')"
            ) from exc
