"""Site configuration: ``storykit.toml``, validated with messages that say what to change."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from .errors import ConfigError
from .model import DEFAULT_USES, EXTERNAL_USES

CONFIG_NAME = "storykit.toml"
_USE_RE = re.compile(r"^[a-z][a-z0-9_]{1,39}\Z")
_SECTIONS = {"site", "consent", "uses", "paths", "plugins", "database", "jobs", "publish",
             "email"}
_SITE_KEYS = {"title": str, "organisation": str, "language": str, "base_url": str, "theme": str,
              "contact_email": str, "description": str, "app_url": str}
_CONSENT_KEYS = {"default_expiry_years": int, "expiry_warning_days": int,
                 "confirm_link_changes": bool}
_DATABASE_KEYS = {"url": str}
#: Background jobs (storykit.jobs, docs/publishing.md): the queue and how workers behave.
_JOBS_KEYS = {"backend": str, "redis_url": str, "workers": int, "stale_after": int,
              "sweep_at": str}
#: Where the public website goes (storykit.publishing, docs/publishing.md).
_PUBLISH_KEYS = {"target": str, "folder": str, "public_url": str}
_PATH_KEYS = ("stories", "instance", "plugins", "themes", "build")


@dataclass(frozen=True)
class Use:
    name: str
    label: str
    external: bool


@dataclass
class SiteConfig:
    root: Path
    title: str = "Patient stories"
    organisation: str = ""
    language: str = "en-GB"
    base_url: str = ""
    #: Where people reach the browser app (links in emails and letters); "" when unknown.
    app_url: str = ""
    theme: str = "nhs"
    contact_email: str = ""
    description: str = ""
    default_expiry_years: int = 3
    expiry_warning_days: int = 60
    #: Staff confirm consent a storyteller widens or gives through a one-time link
    #: (storykit.storyteller); narrowing and withdrawal always apply at once.
    confirm_link_changes: bool = True
    uses: dict[str, Use] = field(default_factory=dict)
    paths: dict[str, Path] = field(default_factory=dict)
    plugins: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: ``[database] url`` (a PostgreSQL URL without its password); "" means SQLite in instance/.
    database_url: str = ""
    #: ``[jobs]`` and ``[publish]`` as written (types checked here; their modules read them).
    jobs: dict[str, Any] = field(default_factory=dict)
    publish: dict[str, Any] = field(default_factory=dict)
    #: ``[email]`` as written (storykit.mail checks and reads it); empty: email is off.
    email: dict[str, Any] = field(default_factory=dict)

    @property
    def use_names(self) -> tuple[str, ...]:
        return tuple(self.uses)

    @property
    def external_uses(self) -> frozenset[str]:
        return frozenset(u.name for u in self.uses.values() if u.external)

    def path(self, name: str) -> Path:
        return self.paths[name]

    def plugin_config(self, name: str) -> dict[str, Any]:
        return dict(self.plugins.get(name, {}))

    def label(self, use: str) -> str:
        return self.uses[use].label if use in self.uses else use


def load_config(root: Path) -> SiteConfig:
    """Read ``root/storykit.toml``. Raises :class:`ConfigError` naming what is wrong."""
    file = root / CONFIG_NAME
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{file}: not found (is this a storykit site?)") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{file}: is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file}: {exc}") from None
    except OSError as exc:  # a folder named storykit.toml, no permission, ...
        raise ConfigError(f"{file}: cannot be read ({exc.strerror or exc})") from None
    return parse_config(data, root, str(file))


def parse_config(data: dict[str, Any], root: Path, file: str = CONFIG_NAME) -> SiteConfig:
    problems: list[str] = []
    unknown = set(data) - _SECTIONS
    if unknown:
        problems.append(f"unknown section(s) {', '.join(sorted(unknown))}; "
                        f"known sections: {', '.join(sorted(_SECTIONS))}")
    cfg = SiteConfig(root=root.resolve())
    site = _table(data, "site", problems)
    for key, value in _typed(site, _SITE_KEYS, "site", problems).items():
        setattr(cfg, key, value)
    if not str(site.get("title", "")).strip():
        problems.append("[site] needs a title, e.g. title = \"Our patient stories\"")
    if cfg.base_url and not re.match(r"https?://[^\s/]+", cfg.base_url):
        problems.append(f"[site] base_url must start with https:// (or http://), "
                        f"not {cfg.base_url!r}")
    if cfg.app_url and not re.match(r"https?://[^\s/]+", cfg.app_url):
        problems.append(f"[site] app_url must start with https:// (or http://), "
                        f"not {cfg.app_url[:60]!r}")
    if cfg.contact_email and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", cfg.contact_email):
        problems.append(f"[site] contact_email {cfg.contact_email!r} is not an email address")
    if not re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*", cfg.language):
        problems.append(f"[site] language must be a language tag such as \"en-GB\", "
                        f"not {cfg.language!r}")
    consent = _table(data, "consent", problems)
    for key, value in _typed(consent, _CONSENT_KEYS, "consent", problems).items():
        setattr(cfg, key, value)
    if not 1 <= cfg.default_expiry_years <= 10:
        problems.append("[consent] default_expiry_years must be between 1 and 10")
    if not 0 <= cfg.expiry_warning_days <= 366:
        problems.append("[consent] expiry_warning_days must be between 0 and 366")
    database = _typed(_table(data, "database", problems), _DATABASE_KEYS, "database", problems)
    cfg.database_url = database.get("url", "").strip()
    if cfg.database_url:
        from .db import parse_url

        try:
            parse_url(cfg.database_url, root, source="[database] url", password_allowed=False)
        except ConfigError as exc:
            problems.append(str(exc))
    cfg.jobs = _typed(_table(data, "jobs", problems), _JOBS_KEYS, "jobs", problems)
    publish = _table(data, "publish", problems)
    cfg.publish = {**{k: v for k, v in publish.items() if k not in _PUBLISH_KEYS},  # a target's
                   **_typed({k: v for k, v in publish.items() if k in _PUBLISH_KEYS},
                            _PUBLISH_KEYS, "publish", problems)}
    _check_jobs_and_publish(cfg, problems)
    cfg.email = _table(data, "email", problems)
    if cfg.email:
        from .mail import check_settings

        problems += check_settings(cfg.email)
    cfg.uses = _uses(_table(data, "uses", problems), problems)
    cfg.paths = _paths(_table(data, "paths", problems), cfg.root, problems)
    plugins = _table(data, "plugins", problems)
    for name, section in plugins.items():
        if not isinstance(section, dict):
            problems.append(f"[plugins.{name}] must be a table of settings")
        else:
            cfg.plugins[name] = section
    if problems:
        raise ConfigError("\n".join(f"{file}: {p}" for p in problems))
    return cfg


def _check_jobs_and_publish(cfg: SiteConfig, problems: list[str]) -> None:
    jobs, publish = cfg.jobs, cfg.publish
    if jobs.get("backend", "sqlite") not in ("sqlite", "redis"):
        problems.append(f"[jobs] backend must be \"sqlite\" (nothing to start) or \"redis\", "
                        f"not {jobs['backend']!r}")
    url = jobs.get("redis_url", "")
    if url and not re.match(r"(rediss?|unix)://", url):
        problems.append("[jobs] redis_url must start with redis://, rediss:// or unix://")
    if url and re.match(r"rediss?://[^/@]*:[^/@]*@", url):
        problems.append("[jobs] redis_url holds a password: never keep it in the file; set "
                        "STORYKIT_REDIS_URL in the environment instead")
    for key, low, high in (("workers", 1, 16), ("stale_after", 1, 3600)):
        if key in jobs and not low <= jobs[key] <= high:
            problems.append(f"[jobs] {key} must be between {low} and {high}")
    if "sweep_at" in jobs and not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", jobs["sweep_at"]):
        problems.append(f"[jobs] sweep_at must be a time of day such as \"03:00\", "
                        f"not {jobs['sweep_at'][:20]!r}")
    public = publish.get("public_url", "")
    if public and not re.match(r"https?://[^\s/]+", public):
        problems.append(f"[publish] public_url must start with https:// (or http://), "
                        f"not {public[:60]!r}")
    if not publish.get("target", "folder").strip():
        problems.append("[publish] target must name a publish target, e.g. \"folder\"")
    if "folder" in publish and not publish["folder"].strip():
        problems.append("[publish] folder must be a folder, e.g. \"build/site\"")


def _table(data: dict, name: str, problems: list[str]) -> dict:
    value = data.get(name, {})
    if not isinstance(value, dict):
        problems.append(f"{name} must be a [{name}] section")
        return {}
    return value


def _typed(table: dict, spec: dict[str, type], section: str, problems: list[str]) -> dict:
    out = {}
    for key, value in table.items():
        want = spec.get(key)
        if want is None:
            problems.append(f"[{section}] has an unknown setting {key!r}; "
                            f"known: {', '.join(spec)}")
        elif type(value) is not want:
            kind = {str: "text in quotes", bool: "true or false"}.get(want, "a whole number")
            problems.append(f"[{section}] {key} must be {kind}")
        else:
            out[key] = value
    return out


def _uses(table: dict, problems: list[str]) -> dict[str, Use]:
    uses = {name: Use(name, label, name in EXTERNAL_USES) for name, label in DEFAULT_USES.items()}
    for name, spec in table.items():
        if not _USE_RE.match(name):
            problems.append(f"[uses.{name}]: a use name is lower-case letters, digits and _")
            continue
        if not isinstance(spec, dict):
            problems.append(f"[uses.{name}] must be a table, e.g. label = \"Ward posters\"")
            continue
        extra = set(spec) - {"label", "external"}
        if extra:
            problems.append(f"[uses.{name}] has unknown setting(s) {', '.join(sorted(extra))}")
        label = spec.get("label", uses[name].label if name in uses else name)
        external = spec.get("external", uses[name].external if name in uses else False)
        if not isinstance(label, str) or not isinstance(external, bool):
            problems.append(f"[uses.{name}] label must be text and external true or false")
            continue
        uses[name] = Use(name, label, external)
    return uses


def _paths(table: dict, root: Path, problems: list[str]) -> dict[str, Path]:
    paths = {name: root / name for name in _PATH_KEYS}
    paths["build"] = root / "build" / "site"
    for key, value in table.items():
        if key not in _PATH_KEYS:
            problems.append(f"[paths] has an unknown setting {key!r}; known: {', '.join(_PATH_KEYS)}")
            continue
        if not isinstance(value, str) or not value:
            problems.append(f"[paths] {key} must be a folder name")
            continue
        rel = PurePosixPath(value)
        if rel.is_absolute() or ".." in rel.parts:
            problems.append(f"[paths] {key} must be a folder inside the site, not {value!r}")
            continue
        paths[key] = root / rel
    stories, instance = paths["stories"], paths["instance"]
    if instance == stories or stories in instance.parents or instance in stories.parents:
        problems.append("[paths] stories and instance must be separate folders, neither inside "
                        "the other (instance holds private state, stories the story files)")
    return paths


def find_site_root(start: Path) -> Path | None:
    """The nearest folder at or above ``start`` holding ``storykit.toml``."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / CONFIG_NAME).is_file():
            return folder
    return None
