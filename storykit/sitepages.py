"""Extra pages a plugin adds to the public website (the ``web_pages`` hook): plain data that
the website builder draws with the theme's ``web/section.html``, escaped like every story
field, and puts in the feed and the search index. A plugin never writes HTML for the site.

Pages live under ``<prefix>/`` (a folder of the plugin's own: :data:`PAGE_PATH`), so they
cannot collide with stories, lists or static files. A page no plugin returns any more is
deleted at the next build."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from .errors import StorykitError

#: A page's path: a folder and a file name, lower-case words and hyphens.
PAGE_PATH = re.compile(r"^[a-z0-9][a-z0-9-]{0,40}/[a-z0-9][a-z0-9-]{0,80}\.html$")
#: Folders the website uses itself.
RESERVED = frozenset({"stories", "images", "static", "services", "tags"})


class SitePageError(StorykitError):
    """A plugin's page that cannot be put on the website (the message says why)."""


@dataclass(frozen=True)
class WebLink:
    """A link from an item: ``path`` is another page of the website (relative to its root)."""

    label: str
    path: str


@dataclass(frozen=True)
class WebItem:
    """One thing on a page: a heading, a paragraph, short facts and links."""

    heading: str
    text: str = ""
    facts: tuple[str, ...] = ()
    links: tuple[WebLink, ...] = ()


@dataclass(frozen=True)
class WebSection:
    heading: str
    intro: str = ""
    items: tuple[WebItem, ...] = ()


@dataclass(frozen=True)
class WebPage:
    """A page for the website. ``updated`` dates its feed entry (None: not in the feed);
    ``service`` and ``words`` go in the search index with the title and intro."""

    path: str
    title: str
    intro: str = ""
    sections: tuple[WebSection, ...] = ()
    links: tuple[WebLink, ...] = ()
    updated: dt.date | None = None
    service: str = ""
    words: str = field(default="", compare=True)

    def checked(self) -> WebPage:
        if not PAGE_PATH.fullmatch(self.path) or self.path.split("/")[0] in RESERVED:
            raise SitePageError(f"a website page's path must look like folder/name.html "
                                f"(not in {', '.join(sorted(RESERVED))}): {self.path[:100]!r}")
        if not self.title.strip():
            raise SitePageError(f"the website page {self.path} needs a title")
        return self
