"""A site: a folder with ``storykit.toml``, its stories, and its private ``instance/`` state."""

from __future__ import annotations

import datetime as dt
from functools import cached_property
from pathlib import Path

from .config import SiteConfig, find_site_root, load_config
from .consent import Decision, decide
from .dates import today
from .errors import ConfigError
from .model import Story
from .store import FileStore


class Site:
    """Everything about one site: configuration, store, and (lazily) plugins."""

    def __init__(self, config: SiteConfig):
        self.config = config
        self.root = config.root
        self.store = FileStore(config.path("stories"), config.path("instance"), config.use_names)
        if self.shared:
            from .changes import ChangeFeed
            from .storylocks import DatabaseLocks

            self.store.locks = DatabaseLocks(lambda: self.database)
            self.store.changes = ChangeFeed(lambda: self.database)

    @cached_property
    def shared(self) -> bool:
        """True when the site's database is PostgreSQL: app servers and workers on several
        machines may share its stories folder, so story locks and change detection go
        through the database (storykit.storylocks, storykit.changes; docs/deploy.md)."""
        from .db import resolve_url

        return resolve_url(self.config.database_url, self.root, self.instance).dialect \
            == "postgresql"

    @classmethod
    def open(cls, root: Path | str) -> Site:
        return cls(load_config(Path(root)))

    @classmethod
    def discover(cls, start: Path | str | None = None) -> Site:
        """The site at or above ``start`` (default: the current folder)."""
        here = Path(start) if start else Path.cwd()
        root = find_site_root(here)
        if root is None:
            raise ConfigError(f"no storykit.toml in {here} or any folder above it; "
                              "run 'storykit init PATH' or pass --site PATH")
        return cls.open(root)

    @property
    def instance(self) -> Path:
        return self.config.path("instance")

    def decide(self, story: Story, use: str, on: dt.date | None = None, *,
               preview: bool = False) -> Decision:
        """The consent decision with this site's list of external uses (for today unless
        ``on`` says otherwise: only listings and checks ask about other days)."""
        return decide(story, use, on or today(), preview=preview,
                      external_uses=self.config.external_uses)

    @cached_property
    def plugins(self):
        from .plugins import load_plugins

        return load_plugins(self)

    def formats(self) -> dict:
        """Output formats by name, each knowing the plugin that provides it."""
        return self.plugins.formats()

    @cached_property
    def markdown_extensions(self) -> tuple:
        return tuple(self.plugins.flat("markdown_extensions", site=self))

    def markdown(self, text: str):
        """Sanitised HTML for Markdown ``text``: the one converter every output uses."""
        from .markup import render_markdown

        return render_markdown(text, self.markdown_extensions)

    def withdraw(self, ref: str, scope: str, reason: str, *, by: str | None = None,
                 ip: str | None = None) -> Story:
        """Withdraw consent for a story, record it in the audit log (never the reason: it is
        the storyteller's words), and tell plugins (``after_withdraw``) where it went. Erasing
        everything also drops the addresses of copies already taken down (the slug is in
        them); those still out there keep theirs until they are removed."""
        from .audit import consent_withdrawn
        from .store import current_user

        story = self.store.withdraw(self.store.find(ref).id, scope, reason, by=by)
        consent_withdrawn(self.audit, by or current_user(), story, scope, ip=ip)
        live = self.distributions.for_story(story.id, live_only=True)
        self.plugins.call("after_withdraw", site=self, story=story, scope=scope,
                          distributions=live)
        if story.erased:
            self.distributions.forget_addresses(story.id)
            self._forget_contact(story.id)
        return story

    def _forget_contact(self, story_id: str) -> None:
        """Erasing everything reaches the storyteller's one-time links and the emails about
        the story (their address may be in them)."""
        from .links import Links
        from .mail import Outbox

        Links(self).forget(story_id)
        Outbox(self).forget(story_id)

    @cached_property
    def database(self):
        """The site's database (storykit.db): SQLite in the instance folder, or PostgreSQL
        when ``STORYKIT_DATABASE_URL`` or ``[database] url`` says so."""
        from .db import Database

        return Database.for_site(self)

    @cached_property
    def audit(self):
        """The audit log (storykit.audit), in the site's database."""
        from .audit import AuditLog

        return AuditLog(self.database)

    @cached_property
    def distributions(self):
        """The distribution log (storykit.distribution), in the site's database."""
        from .distribution import DistributionLog

        return DistributionLog(self.database)
