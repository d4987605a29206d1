"""Ingestion: fetch, parse, extract and store what outlets publish."""

import sys

# httpx imports its own command-line client (httpx._main: click, rich.progress, pygments), about 20 ms of every
# `newsloom add`, unless it cannot: then it defines a stub `httpx.main` instead. newsloom never runs that client.
# (`sys.modules[name] = None` is Python's own way of making a module unimportable.)
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
