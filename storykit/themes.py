"""Themes: templates, static files and settings, with inheritance and site overrides.

A theme is a folder with ``theme.toml`` (name, parent, description, ``[colours]``, ``[fonts]``),
``templates/`` and ``static/``. A theme names a ``parent`` to inherit from. A site's
``themes/<name>/`` folder without ``theme.toml`` overrides single files of theme ``<name>``.
Themes are untrusted input: templates run in Jinja's sandbox with autoescaping, and CSS may
only reference files inside the theme (checked when the theme loads; anything else is an error).
"""

from __future__ import annotations

import contextlib
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from markupsafe import Markup

from .dates import nice_date
from .errors import StorykitError
from .markup import markdown_inline, plain_text

if TYPE_CHECKING:  # pragma: no cover
    import jinja2

    from .site import Site

THEME_FILE = "theme.toml"
_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:", re.I)


class ThemeError(StorykitError):
    """A theme is missing, malformed or references something outside itself."""


@dataclass
class Theme:
    """A theme resolved to its chain of folders: overrides first, then the theme, then
    its parents."""

    name: str
    description: str = ""
    folders: list[Path] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def template_dirs(self) -> list[Path]:
        return [f / "templates" for f in self.folders if (f / "templates").is_dir()]

    def static_files(self) -> dict[str, Path]:
        """Relative path -> file, a child's file replacing its parent's of the same name."""
        files: dict[str, Path] = {}
        for folder in reversed(self.folders):
            static = folder / "static"
            if static.is_dir():
                for path in sorted(static.rglob("*")):
                    if path.is_file() and not path.name.startswith("."):
                        files[path.relative_to(static).as_posix()] = path
        return files

    def static(self, rel: str) -> Path | None:
        return self.static_files().get(rel)

    @property
    def colours(self) -> dict[str, str]:
        return dict(self.settings.get("colours", {}))

    @property
    def fonts(self) -> dict[str, str]:
        return dict(self.settings.get("fonts", {}))

    def font_file(self, key: str = "regular") -> Path | None:
        """A font file named in ``[fonts]`` (e.g. ``regular = "fonts/X.ttf"``), from static."""
        rel = self.fonts.get(key)
        return self.static(rel) if rel else None

    def environment(self, site: Site | None = None,
                    extra_dirs: Iterable[Path] = ()) -> jinja2.Environment:
        """A sandboxed, autoescaping Jinja environment over this theme's templates, then
        ``extra_dirs`` (a plugin's default templates, which the theme may override)."""
        import jinja2  # about 40 ms: only for commands that render templates
        from jinja2.sandbox import SandboxedEnvironment

        dirs = [str(d) for d in self.template_dirs] + [str(d) for d in extra_dirs]
        env = SandboxedEnvironment(
            loader=jinja2.FileSystemLoader(dirs), autoescape=True,
            trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
            bytecode_cache=_bytecode_cache(site.instance) if site else None)
        env.filters.update(
            markdown=(site.markdown if site else _plain_markdown), plain=plain_text,
            inline_markdown=markdown_inline, nice_date=nice_date)
        env.globals.update(theme=self, colours=self.colours)
        if site is not None:
            site.plugins.call("prepare_jinja_environment", site=site, env=env)
        return env


def _bytecode_cache(instance: Path) -> jinja2.BytecodeCache | None:
    """Compiled templates kept in the instance folder, so each command does not compile
    them again (Jinja checks each template's source before reusing its code)."""
    import jinja2

    class QuietCache(jinja2.FileSystemBytecodeCache):
        def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
            with contextlib.suppress(OSError):  # a cache that can't be written is only slower
                super().dump_bytecode(bucket)

    folder = instance / "cache" / "templates"
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError:
        return None
    return QuietCache(str(folder))


def _plain_markdown(text: str) -> Markup:
    from .markup import render_markdown

    return render_markdown(text)


# --- finding themes ----------------------------------------------------------------------

def theme_sources(site: Site) -> dict[str, Path]:
    """Every available theme: name -> folder. Site themes win over plugin and built-in ones."""
    found: dict[str, Path] = {}
    folders = [Path(p) for p in site.plugins.flat("register_themes", site=site)]
    site_dir = site.config.path("themes")
    if site_dir.is_dir():
        folders += sorted(p for p in site_dir.iterdir() if (p / THEME_FILE).is_file())
    for folder in folders:
        meta = _read_meta(folder / THEME_FILE)
        found[meta.get("name", folder.name)] = folder
    return found


def load_theme(site: Site, name: str | None = None) -> Theme:
    """Resolve ``name`` (default: the site's theme) with its parents and the site's overrides."""
    name = name or site.config.theme
    sources = theme_sources(site)
    if name not in sources:
        known = ", ".join(sorted(sources)) or "none"
        raise ThemeError(f"unknown theme {name!r}; available themes: {known}")
    theme = Theme(name=name)
    chain: list[str] = []
    current: str | None = name
    while current:
        if current in chain:
            raise ThemeError(f"theme {name!r} has a parent loop: {' -> '.join(chain + [current])}")
        if current not in sources:
            raise ThemeError(f"theme {chain[-1]!r} names parent {current!r}, which does not exist")
        chain.append(current)
        folder = sources[current]
        meta = _read_meta(folder / THEME_FILE)
        override = site.config.path("themes") / current
        if override.is_dir() and not (override / THEME_FILE).exists():
            theme.folders.append(override)
        theme.folders.append(folder)
        theme.settings = _merge(meta, theme.settings)
        current = meta.get("parent") or None
    theme.description = str(_read_meta(sources[name] / THEME_FILE).get("description", ""))
    for folder in theme.folders:
        if not _builtin(folder):  # storykit's own are checked by its tests
            check_css(folder, site.instance / "cache")
    return theme


def _builtin(folder: Path) -> bool:
    """Whether ``folder`` is one of storykit's own themes, which ship with it unchanged
    (tests/test_themes.py checks their CSS as :func:`check_css` would): parsing their
    style sheets again took a clean build about 25 ms."""
    from .default_themes import builtin_themes_dir

    return folder.parent == builtin_themes_dir()


def _read_meta(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ThemeError(f"{path}: cannot read theme settings ({exc})") from None
    name = data.get("name", path.parent.name)
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise ThemeError(f"{path}: name must be lower-case letters, digits, - or _")
    parent = data.get("parent", "")
    if not isinstance(parent, str):
        raise ThemeError(f"{path}: parent must be a theme name")
    return data


def _merge(child: dict[str, Any], base: dict[str, Any]) -> dict[str, Any]:
    """Settings where ``base`` (nearer the child) wins over ``child`` (the parent)."""
    out = dict(child)
    for key, value in base.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = {**out[key], **value}
        else:
            out[key] = value
    return out


def check_css(folder: Path, cache_dir: Path | None = None) -> None:
    """Refuse CSS that reaches outside the theme: other schemes, absolute paths, paths out of
    ``static/``, and anything that cannot be checked (see :mod:`storykit.css_urls`: the CSS is
    tokenised as browsers and WeasyPrint read it, escapes and comments included; what it
    finds is remembered in ``cache_dir``)."""
    from .css_urls import addresses

    static = folder / "static"
    if not static.is_dir():
        return
    root = static.resolve()
    for css in sorted(static.rglob("*.css")):
        for found in addresses(css.read_bytes(), cache_dir):
            problem = found.problem or _css_target_problem(found.target.strip(), css.parent,
                                                           root)
            if problem:
                raise ThemeError(f"{css}:{found.line}: {problem}; a theme may only use its "
                                 "own files")


def _css_target_problem(target: str, base: Path, root: Path) -> str | None:
    if not target or target.startswith("#"):
        return None
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in target):  # a browser drops tabs...
        return "control characters in a CSS address are not allowed"
    if target.lower().startswith("data:"):
        return None
    if _SCHEME.match(target) or target.startswith("//"):
        return f"CSS refers to {target[:60]!r} outside the theme"
    if target.startswith("/"):
        return f"CSS refers to the absolute path {target[:60]!r}"
    resolved = (base / target.split("?")[0].split("#")[0]).resolve()
    if not resolved.is_relative_to(root):
        return f"CSS refers to {target[:60]!r}, outside the theme's static folder"
    return None
