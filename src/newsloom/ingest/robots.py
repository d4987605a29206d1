"""robots.txt (RFC 9309): parse once per host, then answer "may this agent fetch this path?" (pure).

``urllib.robotparser`` is not used: it takes the first matching rule instead of the longest one and does not
understand ``*`` and ``$``, both of which news sites use heavily (``Disallow: /*?utm_``).
The fetching and caching of robots.txt lives in fetch.py; this module never does I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import quote, unquote, urlsplit

# RFC 9309 §2.5: crawlers must parse at least 500 KiB; anything after that may be ignored.
MAX_ROBOTS_BYTES = 500 * 1024


@dataclass(frozen=True, slots=True)
class Rule:
    allow: bool
    path: str  # normalized pattern, may contain * and a trailing $

    def matches(self, path: str) -> bool:
        return _pattern(self.path).match(path) is not None

    @property
    def length(self) -> int:
        # RFC 9309 §2.2.2: the most specific (longest) match wins; count pattern characters as written
        return len(self.path)


@dataclass(frozen=True, slots=True)
class RobotsRules:
    """The groups of one robots.txt: ``groups`` maps a lower-cased product token to its rules."""

    groups: tuple[tuple[str, tuple[Rule, ...]], ...] = ()

    def rules_for(self, agent: str) -> tuple[Rule, ...]:
        token = agent.lower()
        specific = [rules for name, rules in self.groups if name == token]
        if specific:
            return tuple(rule for rules in specific for rule in rules)
        return tuple(rule for name, rules in self.groups if name == "*" for rule in rules)

    def allows(self, agent: str, url_or_path: str) -> bool:
        """True if ``agent`` (a product token such as ``newsloom``) may fetch the URL or path."""
        path = _path_of(url_or_path)
        if path == "/robots.txt":
            return True
        best: Rule | None = None
        for rule in self.rules_for(agent):
            if not rule.matches(path):
                continue
            if best is None or rule.length > best.length or (rule.length == best.length and rule.allow):
                best = rule
        return best is None or best.allow


ALLOW_ALL = RobotsRules()
DISALLOW_ALL = RobotsRules((("*", (Rule(allow=False, path="/"),)),))

_LINE = re.compile(r"^\s*([A-Za-z-]+)\s*:\s*(.*?)\s*$")


def parse_robots(data: bytes | str) -> RobotsRules:
    """Parse robots.txt leniently: unknown lines are skipped, as RFC 9309 §2.2 asks."""
    if isinstance(data, bytes):
        data = data[:MAX_ROBOTS_BYTES].decode("utf-8", errors="replace")
    groups: list[tuple[list[str], list[Rule]]] = []
    agents: list[str] = []
    rules: list[Rule] = []
    in_rules = False
    for raw_line in data.lstrip("\ufeff").splitlines():
        line = raw_line.split("#", 1)[0]
        found = _LINE.match(line)
        if not found:
            continue
        key, value = found.group(1).lower(), found.group(2)
        if key in ("user-agent", "useragent"):
            if in_rules:  # a user-agent line after rules starts a new group
                groups.append((agents, rules))
                agents, rules, in_rules = [], [], False
            agents.append(_product_token(value))
        elif key in ("allow", "disallow"):
            if not agents:  # rules before any user-agent line belong to no group
                continue
            in_rules = True
            if key == "disallow" and not value:
                continue  # "Disallow:" with no path allows everything; it adds no rule
            if value:
                rules.append(Rule(allow=key == "allow", path=_normalize(value)))
    if agents:
        groups.append((agents, rules))
    return RobotsRules(tuple((agent, tuple(group_rules)) for names, group_rules in groups for agent in names))


def product_token(user_agent: str) -> str:
    """The token robots.txt groups match against: ``newsloom/0.1 (+url)`` -> ``newsloom``."""
    return _product_token(user_agent)


def _product_token(value: str) -> str:
    token = value.strip().split("/", 1)[0].split(None, 1)[0] if value.strip() else ""
    return token.lower() or "*"


# Characters left unencoded when normalizing; * and $ must survive because rule paths use them as patterns
_SAFE = "/?=&;:@!$'()*+,~-._"


def _normalize(path: str) -> str:
    """Percent-encode the same way on both sides (RFC 9309 §2.2.2) so /caf%C3%A9 matches /café."""
    if not path.startswith(("/", "*")):
        path = "/" + path
    return quote(unquote(path), safe=_SAFE)


def _path_of(url_or_path: str) -> str:
    if url_or_path.startswith("/"):
        path = url_or_path
    else:
        parts = urlsplit(url_or_path)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return _normalize(path)


@lru_cache(maxsize=4096)  # a memo of compiled regexes; it never changes an answer
def _pattern(rule_path: str) -> re.Pattern[str]:
    anchored = rule_path.endswith("$")
    body = rule_path[:-1] if anchored else rule_path
    regex = ".*".join(re.escape(piece) for piece in body.split("*"))
    return re.compile(regex + ("$" if anchored else ""), re.DOTALL)
