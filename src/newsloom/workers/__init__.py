"""Queue mode: the pipeline's stages as tasks on Celery (Redis or RabbitMQ), run by `newsloom worker`.

Nothing here is imported unless NEWSLOOM_QUEUE_URL is set; the default keeps everything in-process.
See docs/architecture-queue.md for the design and docs/deploy.md for running it.
"""
