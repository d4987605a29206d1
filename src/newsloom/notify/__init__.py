"""Telling readers: story-change events (pure), the outbox hook, delivery (e-mail, webhooks) and digests."""
