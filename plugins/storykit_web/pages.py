"""What goes on each page of the public site, kept apart from how pages are written.

A story page depends only on its own story, so editing one story re-renders one page. Listing
pages (home, all stories, services, tags, feed, sitemap, search index) depend on *cards*:
the little summary of each story they show. Cards are plain JSON so the build manifest can keep
them, and each listing is re-rendered only when the hash of its cards changes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from html import unescape
from typing import Any

from storykit import StoryView
from storykit.kit import nice_date, slugify

PER_PAGE = 50  # stories per "all stories" page
HOME_LATEST = 6  # newest stories on the home page
FEED_ENTRIES = 50
SEARCH_WORDS = 250  # distinct words per story kept in the search index (file size)
STORY_DIR = "stories"
IMAGE_DIR = "images"
STATIC_DIR = "static"
SEARCH_INDEX = "search-index.js"

#: The Content-Security-Policy of built pages: our own files only, no inline code, no plugins,
#: no <base>, forms only to ourselves.
SITE_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
            "font-src 'self'; connect-src 'none'; frame-src 'none'; object-src 'none'; "
            "base-uri 'none'; form-action 'self'")

_TAG = re.compile(r"""<[^>"']*(?:(?:"[^"]*"|'[^']*')[^>"']*)*>""")  # a tag, quotes and all
_SPACE = re.compile(r"\s+")
_WORD = re.compile(r"[^\W_]+(?:['\u2019][^\W_]+)*")
_ASCII_WORD = re.compile(r"[a-z0-9]+(?:'[a-z0-9]+)*")  # _WORD for lower-case ASCII: quicker
#: ASCII bytes to lower case, with everything but letters, digits and ' made a space.
_WORD_BYTES = bytes(c + 32 if 65 <= c <= 90 else c if (97 <= c <= 122 or 48 <= c <= 57
                                                       or c == 39) else 32 for c in range(256))
_STOP_WORDS = """a about after again all also am an and any are as at be because been before
being but by can could did do does doing down during each few for from further had has have
having he her here hers him his how i if in into is it its just me more most my no nor not now
of off on once only or other our out over own same she should so some such than that the their
them then there these they this those through to too under until up very was we were what when
where which while who whom why will with would you your"""
_STOP = frozenset(_STOP_WORDS.split())
_STOP_BYTES = frozenset(w.encode() for w in _STOP)


def story_page(slug: str) -> str:
    return f"{STORY_DIR}/{slug}.html"


def quick_digest(*parts: str | None) -> str:
    """Like :func:`digest` for a few strings, without JSON (used once per story per build)."""
    data = "\x1f".join("\x00" if p is None else p for p in parts)
    return hashlib.sha256(data.encode("utf-8")).hexdigest()[:32]


def digest(*parts: Any) -> str:
    """A short, stable hash of JSON-able parts (used for every 'did this change?' check)."""
    data = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(data.encode("utf-8")).hexdigest()[:32]


# --- services and tags ---------------------------------------------------------------------

@lru_cache(maxsize=4096)
def group_slug(name: str) -> str:
    """A URL label for a service or tag. Spellings that differ only in case or punctuation
    share a page; a name with no letters or digits gets a label made from its hash."""
    slug = slugify(name)
    return slug or "x-" + hashlib.sha256(name.encode("utf-8")).hexdigest()[:8]


def service_page(name: str) -> str:
    return f"services/{group_slug(name)}.html"


def tag_page(name: str) -> str:
    return f"tags/{group_slug(name)}.html"


# --- cards and search entries --------------------------------------------------------------

def card_for(view: StoryView, image: dict[str, Any] | None = None,
             summary_html: str = "") -> dict[str, Any]:
    """What listings show about a story: all plain text (templates escape it).
    ``summary_html`` is the summary as the page shows it (sanitised), made plain here."""
    updated = view.updated or view.created
    summary = plain_from_html(summary_html)
    return {
        "id": view.id, "slug": view.slug, "title": view.title, "summary": summary,
        "service": view.service or "", "tags": list(view.tags),
        "updated": updated.isoformat() if updated else "",
        "updated_text": nice_date(updated) if updated else "",
        "attribution": view.attribution, "page": story_page(view.slug),
        "content_warning": bool(view.content_warning), "image": image,
    }


def plain_from_html(html: str) -> str:
    """Sanitised HTML (from storykit.markup: no comments, scripts or styles left) as plain
    text, as storykit.markup.plain_text gives for Markdown, without parsing it again."""
    return _SPACE.sub(" ", unescape(_TAG.sub(" ", str(html)))).strip() if html else ""


def search_entry(card: dict[str, Any], html_parts: Iterable[str]) -> dict[str, Any]:
    """One story in the offline search index: short keys keep the file small. Its words come
    from the sanitised text readers see (``html_parts``), never from raw Markdown."""
    text = " ".join(unescape(_TAG.sub(" ", str(part))) for part in html_parts)  # spaces: any
    return {"t": card["title"], "u": card["page"], "s": card["summary"], "v": card["service"],
            "g": card["tags"], "d": card["updated_text"], "w": body_words(text)}


def page_search_entry(page: Any) -> dict[str, Any]:
    """A plugin's page (``storykit.kit.WebPage``) in the offline search index."""
    text = " ".join([page.intro, page.words] + [
        " ".join([s.heading, s.intro] + [f"{i.heading} {i.text}" for i in s.items])
        for s in page.sections])
    return {"t": page.title, "u": page.path, "s": page.intro, "v": page.service, "g": [],
            "d": nice_date(page.updated) if page.updated else "", "w": body_words(text)}


def body_words(text: str, limit: int = SEARCH_WORDS) -> str:
    """Distinct lower-case words of the text (no common small words), in order of appearance."""
    if text.isascii():  # as bytes, the same words in half the time
        data = b" " + text.encode("ascii").translate(_WORD_BYTES) + b" "
        # A ' is part of a word only between two letters or digits: others become spaces,
        # then the words are what lies between spaces.
        while b"'" in data and (b" '" in data or b"' " in data or b"''" in data):
            data = data.replace(b"''", b"  ").replace(b" '", b"  ").replace(b"' ", b"  ")
        tokens = data.split()
        found_bytes = dict.fromkeys(tokens)
        return b" ".join([w for w in found_bytes if len(w) > 2 and w not in _STOP_BYTES][:limit]
                         ).decode("ascii")
    text = text.lower().replace("\u2019", "'")
    words = (_ASCII_WORD if text.isascii() else _WORD).findall(text)  # the same words
    found = dict.fromkeys(words)  # in order, once
    return " ".join([w for w in found if len(w) > 2 and w not in _STOP][:limit])


def sort_cards(cards: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Newest first, then by title, then id (so the order never depends on load order)."""
    ordered = sorted(cards, key=lambda c: (c["title"].lower(), c["id"]))
    return sorted(ordered, key=lambda c: c["updated"], reverse=True)


# --- listing pages -------------------------------------------------------------------------

@dataclass
class Listing:
    """A page made from cards. ``params`` are JSON-able; ``card_ids`` say which cards it shows,
    in order. Its content hash is built from both, so unchanged listings are not rewritten."""

    path: str
    template: str
    params: dict[str, Any] = field(default_factory=dict)
    card_ids: list[str] = field(default_factory=list)
    kind: str = "html"  # html, xml or js


@dataclass
class Group:
    name: str
    page: str
    card_ids: list[str]

    @property
    def count(self) -> int:
        return len(self.card_ids)


def groups(cards: list[dict[str, Any]], key: str) -> list[Group]:
    """Stories grouped by service (``key="service"``) or tag (``key="tags"``), by name."""
    found: dict[str, dict[str, Any]] = {}
    page_of = service_page if key == "service" else tag_page
    pages: dict[str, str] = {}  # name -> page, worked out once per name
    for card in cards:
        names = card[key] if key == "tags" else ([card[key]] if card[key] else [])
        for name in names:
            page = pages.get(name) or pages.setdefault(name, page_of(name))
            entry = found.setdefault(page, {"names": {}, "ids": {}})
            entry["names"][name] = entry["names"].get(name, 0) + 1
            entry["ids"][card["id"]] = None  # a dict keeps the order and drops repeats
    out = [Group(_usual_name(e["names"]), page, list(e["ids"])) for page, e in found.items()]
    return sorted(out, key=lambda g: (g.name.lower(), g.page))


def _usual_name(names: dict[str, int]) -> str:
    return sorted(names.items(), key=lambda item: (-item[1], item[0]))[0][0]


def listings(cards: list[dict[str, Any]], *, base_url: str, per_page: int = PER_PAGE,
             statement_date: str = "") -> list[Listing]:
    """Every listing page of the site for these cards (already sorted newest first)."""
    ids = [c["id"] for c in cards]
    services, tags = groups(cards, "service"), groups(cards, "tags")
    out = [
        Listing("index.html", "web/home.html",
                {"services": _group_rows(services), "tags": _group_rows(tags),
                 "total": len(ids)}, ids[:HOME_LATEST]),
        *_story_pages(ids, per_page),
        Listing("services.html", "web/groups.html",
                {"kind": "services", "groups": _group_rows(services)}),
        Listing("tags.html", "web/groups.html", {"kind": "tags", "groups": _group_rows(tags)}),
        *[Listing(g.page, "web/group.html", {"kind": "services", "name": g.name}, g.card_ids)
          for g in services],
        *[Listing(g.page, "web/group.html", {"kind": "tags", "name": g.name}, g.card_ids)
          for g in tags],
        Listing("search.html", "web/search.html"),
        Listing("accessibility.html", "web/accessibility.html",
                {"statement_date": statement_date}),
        Listing("feed.xml", "web/feed.xml", {}, ids[:FEED_ENTRIES], kind="xml"),
        Listing(SEARCH_INDEX, "", {}, ids, kind="js"),
    ]
    if base_url:
        pages = [entry.path for entry in out if entry.kind == "html"]
        out.append(Listing("sitemap.xml", "web/sitemap.xml", {"pages": pages}, ids, kind="xml"))
    return out


def _group_rows(found: list[Group]) -> list[dict[str, Any]]:
    return [{"name": g.name, "page": g.page, "count": g.count} for g in found]


def _story_pages(ids: list[str], per_page: int) -> list[Listing]:
    chunks = [ids[i:i + per_page] for i in range(0, len(ids), per_page)] or [[]]
    paths = ["stories.html"] + [f"stories-{n}.html" for n in range(2, len(chunks) + 1)]
    return [Listing(path, "web/stories.html",
                    {"page_number": n + 1, "page_count": len(chunks), "pages": paths,
                     "total": len(ids), "first": n * per_page + 1}, chunk)
            for n, (path, chunk) in enumerate(zip(paths, chunks, strict=True))]


# --- page helpers used by templates --------------------------------------------------------

def card_once(env: Any):
    """``card_once(card_item, card, level)`` for list templates: a story's card as the
    ``card_item`` macro of ``web/_card.html`` makes it, made once for each place (``root``)
    and heading level; a story is on four list pages on average. A theme's card that uses
    any other value of the page than ``root`` is made every time. Cards are known by the
    story's id: call ``forget()`` whenever the cards may change (each set of list pages)."""
    from jinja2 import meta, pass_context

    source = env.loader.get_source(env, "web/_card.html")[0]
    reusable = meta.find_undeclared_variables(env.parse(source)) <= {"root"}
    made: dict[tuple[str, str, int], Any] = {}

    @pass_context
    def once(context: Any, card_item: Any, card: dict[str, Any], level: int = 2) -> Any:
        if not reusable:
            return card_item(card, level)
        key = (card["id"], context.get("root"), level)
        html = made.get(key)
        if html is None:
            html = made[key] = card_item(card, level)
        return html

    once.forget = made.clear
    return once


def entry_id(story_id: str) -> str:
    """A permanent Atom id for a story (kept if its slug or the site's address changes)."""
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, 'storykit-story:' + story_id)}"


def feed_id(title: str) -> str:
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, 'storykit-feed:' + title)}"


def atom_date(iso: str) -> str:
    day = dt.date.fromisoformat(iso) if iso else dt.date(2000, 1, 1)
    return f"{day.isoformat()}T00:00:00Z"


def absolute(base_url: str, path: str) -> str:
    """``path`` under the site's public address, or "" when the site has none."""
    return base_url.rstrip("/") + "/" + path if base_url else ""


def relative_root(path: str) -> str:
    """The prefix that leads from page ``path`` back to the site's root folder."""
    return "../" * path.count("/")


def description_of(card: dict[str, Any], fallback: str) -> str:
    text = card.get("summary") or fallback
    return text if len(text) <= 200 else text[:197].rsplit(" ", 1)[0] + "..."
