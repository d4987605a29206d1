"""Local files and folders: pages (.html/.htm), plain-text articles (.txt) and saved feeds.

Plain text carries no markup, so the chrome of a site or aggregator is partly recognised by what recurs
across its documents: all .txt files of one folder are read first and their recurring lines handed to the
extractor.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from newsloom.errors import InputError, NewsloomError
from newsloom.ingest.extract import extract_file, recurring_lines
from newsloom.ingest.feeds import parse_feed
from newsloom.ingest.items import item_to_article
from newsloom.types import ExtractedArticle

PAGE_SUFFIXES = frozenset({".html", ".htm", ".xhtml"})
TEXT_SUFFIXES = frozenset({".txt"})
FEED_SUFFIXES = frozenset({".xml", ".rss", ".atom", ".json", ".rdf"})
SUPPORTED_SUFFIXES = PAGE_SUFFIXES | TEXT_SUFFIXES | FEED_SUFFIXES
#: a saved feed or page larger than this is refused rather than read into memory
MAX_FILE_BYTES = 50_000_000


@dataclass(frozen=True, slots=True)
class LocalDocument:
    """One article found in a local file, or the error that file gave."""

    path: Path
    article: ExtractedArticle | None
    error: str | None = None
    already_stored: bool = False  # skipped unread: the caller said this file is stored already


def expand_paths(paths: Iterable[str | Path]) -> list[Path]:
    """Files as given, folders walked recursively (sorted, hidden entries skipped); missing paths raise."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                if child.is_file() and not any(part.startswith(".") for part in child.relative_to(path).parts):
                    found.append(child)
        elif path.is_file():
            found.append(path)
        else:
            raise InputError(f"{path}: no such file or folder")
    return found


def _read(path: Path) -> bytes:
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise InputError(f"{path}: {size} bytes is larger than the {MAX_FILE_BYTES}-byte limit")
    return path.read_bytes()


def _site_lines_by_folder(paths: Iterable[Path]) -> dict[Path, frozenset[str]]:
    texts: dict[Path, list[str]] = defaultdict(list)
    for path in paths:
        if path.suffix.lower() in TEXT_SUFFIXES:
            try:
                texts[path.parent].append(_read(path).decode("utf-8", errors="replace"))
            except (OSError, InputError):
                continue
    return {folder: recurring_lines(docs) for folder, docs in texts.items()}


def read_documents(
    paths: Iterable[str | Path], *, stored: Callable[[Path], bool] | None = None
) -> Iterator[LocalDocument]:
    """Every article in the given files and folders, in path order; a bad file yields an error, not an exception.

    ``stored`` names page and text files that are stored already: they are not read again (a restarted
    ingest of a large folder then skips the extraction work done before).
    """
    files = expand_paths(paths)
    site_lines = _site_lines_by_folder(files)
    for path in files:
        suffix = path.suffix.lower()
        try:
            if (suffix in PAGE_SUFFIXES or suffix in TEXT_SUFFIXES) and stored is not None and stored(path):
                yield LocalDocument(path, None, already_stored=True)
            elif suffix in PAGE_SUFFIXES or suffix in TEXT_SUFFIXES:
                yield LocalDocument(path, extract_file(path, site_lines=site_lines.get(path.parent, frozenset())))
            elif suffix in FEED_SUFFIXES:
                yield from _feed_documents(path)
            else:
                yield LocalDocument(path, None, f"unsupported file type {suffix or '(none)'}")
        except OSError as exc:
            yield LocalDocument(path, None, f"cannot read: {exc.strerror or exc}")
        except NewsloomError as exc:
            yield LocalDocument(path, None, str(exc))


def _feed_documents(path: Path) -> Iterator[LocalDocument]:
    feed = parse_feed(_read(path), url=None)
    for item in feed.items:
        article = item_to_article(item, feed)
        if article.url is None:
            yield LocalDocument(path, None, f"feed item {item.title or item.guid or '?'} has no link")
        else:
            yield LocalDocument(path, article)
