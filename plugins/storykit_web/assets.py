"""Theme files for the web: one CSS bundle per theme, and the static files pages may load.

Colours and the font stack come from ``theme.toml`` (so the three themes and a site's own theme
share one stylesheet), followed by the theme chain's ``css/fonts.css``, ``css/web.css`` and
``css/theme.css``. Themes are untrusted: storykit checks their CSS when a theme loads, and here
every static file must really live inside its theme (no symbolic links out of it).
"""

from __future__ import annotations

import base64
import hashlib
import mimetypes
import posixpath
import re
from pathlib import Path

from storykit import Theme
from storykit.kit import ThemeError

PLUGIN_DIR = Path(__file__).resolve().parent
TEMPLATES = PLUGIN_DIR / "templates"
PLUGIN_STATIC = PLUGIN_DIR / "static"
CSS_FILES = ("css/fonts.css", "css/web.css", "css/theme.css")
BUNDLE = "css/site.css"
INLINE_LIMIT = 256 * 1024  # bytes: bigger files are left out of self-contained pages

_COLOUR = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
_FAMILY = re.compile(r"^[A-Za-z0-9 ,'\"-]{1,200}$")
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,30}$")
_URL = re.compile(r"url\(\s*(?P<q>['\"]?)(?P<target>.*?)(?P=q)\s*\)", re.I | re.S)
_IMPORT = re.compile(r"@import\b", re.I)
_IMAGE_SET = re.compile(r"image-set\(\s*['\"]", re.I)


def static_files(theme: Theme) -> dict[str, Path]:
    """Files under ``static/`` of the built site: the theme chain's, then this plugin's.
    Raises :class:`ThemeError` for a file that resolves outside its theme's folder."""
    files: dict[str, Path] = {}
    for folder in reversed(theme.folders):
        files.update(_checked(folder / "static"))
    for rel, path in _checked(PLUGIN_STATIC).items():
        files.setdefault(rel, path)
    return files


def _checked(static: Path) -> dict[str, Path]:
    if not static.is_dir():
        return {}
    root = static.resolve()
    out: dict[str, Path] = {}
    for path in sorted(static.rglob("*")):
        if path.name.startswith(".") or not path.is_file():
            continue
        if not path.resolve().is_relative_to(root):
            raise ThemeError(f"{path}: links to a file outside the theme; a theme may only "
                             "use its own files")
        out[path.relative_to(static).as_posix()] = path
    return out


def colour_rules(theme: Theme) -> str:
    """``:root`` custom properties from theme.toml's ``[colours]`` and ``[fonts] family``."""
    lines = []
    for name, value in sorted(theme.colours.items()):
        if not _NAME.match(name) or not isinstance(value, str) or not _COLOUR.match(value):
            raise ThemeError(f"theme {theme.name!r}: colour {name} = {value!r} must be a "
                             "colour like \"#005EB8\"")
        lines.append(f"  --sk-{name.replace('_', '-')}: {value};")
    family = theme.fonts.get("family", "Arial, 'Liberation Sans', sans-serif")
    if not isinstance(family, str) or not _FAMILY.match(family):
        raise ThemeError(f"theme {theme.name!r}: [fonts] family may use only letters, digits, "
                         "spaces, commas, hyphens and quotes")
    lines.append(f"  --sk-font: {family};")
    return ":root {\n" + "\n".join(lines) + "\n}\n"


def bundle_css(theme: Theme, files: dict[str, Path], *, standalone: bool = False) -> str:
    """The theme's stylesheet as one text. For the site it lives at ``static/css/site.css``;
    ``standalone`` drops web fonts and turns other url()s into data: URIs."""
    parts = [colour_rules(theme)]
    for rel in CSS_FILES:
        path = files.get(rel)
        if path is None or (standalone and rel == "css/fonts.css"):
            continue
        text = path.read_text(encoding="utf-8")
        _check_web_css(path, text)
        text = _moved(text, rel, files, standalone)
        parts.append(f"/* {rel} */\n{text}")
    css = "\n".join(parts)
    if re.search(r"</?style|<!--|<script", css, re.I):
        raise ThemeError(f"theme {theme.name!r}: CSS may not contain HTML tags or comments")
    return css


def _check_web_css(path: Path, text: str) -> None:
    """What storykit.themes.check_css cannot see: image-set() with a bare string (browsers
    load it like url(), unchecked) and @import (it would land mid-bundle)."""
    for pattern, problem in ((_IMAGE_SET, "image-set() must use url(...) so storykit can check "
                              "where it points"),
                             (_IMPORT, "@import is not supported in web themes; put the rules "
                              "in css/web.css or css/theme.css")):
        match = pattern.search(text)
        if match:
            line = text.count("\n", 0, match.start()) + 1
            raise ThemeError(f"{path}:{line}: {problem}; a theme may only use its own files")


def _moved(text: str, rel: str, files: dict[str, Path], standalone: bool) -> str:
    """Rewrite url()s of a file at ``rel`` for the bundle at :data:`BUNDLE`."""
    here = posixpath.dirname(rel)

    def fix(match: re.Match) -> str:
        target = match.group("target").strip()
        if not target or target.startswith(("#", "data:")):
            return match.group(0)
        clean = target.split("?")[0].split("#")[0]
        wanted = posixpath.normpath(posixpath.join(here, clean))
        if standalone:
            return f'url("{_data_uri(files.get(wanted))}")'
        moved = posixpath.relpath(wanted, posixpath.dirname(BUNDLE))
        return f'url("{moved}")'

    return _URL.sub(fix, text) if standalone or here != posixpath.dirname(BUNDLE) else text


def _data_uri(path: Path | None) -> str:
    if path is None or path.stat().st_size > INLINE_LIMIT:
        return "data:,"
    kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return f"data:{kind};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def style_hash(css: str) -> str:
    """The CSP source allowing exactly this ``<style>`` element's text."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(css.encode("utf-8")).digest()).decode() + "'"
