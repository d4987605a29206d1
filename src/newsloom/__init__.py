"""newsloom: a self-hostable news aggregator that recognises one event across many outlets."""

from newsloom.errors import NewsloomError
from newsloom.settings import Settings, load_settings
from newsloom.types import Article, ExtractedArticle, FeedItem, FetchResult, OpmlOutline, ParsedFeed, Source

__all__ = [
    "Article",
    "ExtractedArticle",
    "FeedItem",
    "FetchResult",
    "NewsloomError",
    "OpmlOutline",
    "ParsedFeed",
    "Settings",
    "Source",
    "load_settings",
]
__version__ = "0.1.0"
