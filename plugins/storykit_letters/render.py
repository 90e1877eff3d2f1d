"""Drawing a letter: its words (made by the core) through the theme's templates and this
plugin's print rules, into a tagged PDF/UA-1 with WeasyPrint.

Like every PDF storykit makes, it is made in a child process with a time and memory limit,
reading only the theme's static files and this plugin's pictures, and written atomically."""

from __future__ import annotations

import re
import shutil
import tempfile
from functools import partial
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup, escape

from storykit import StorykitError, Theme
from storykit.kit import DEFAULT_VARIANT, html_to_pdf, nice_date, run_limited, write_atomic

from . import style
from .settings import resolve

TEMPLATES = Path(__file__).parent / "templates"
ICONS = Path(__file__).parent / "static" / "icons"
TIMEOUT = 120
MEMORY_MB = 1024
_BOLD = re.compile(r"\*\*(.+?)\*\*", re.S)


def render_letter(letter, letter_style: str, theme: Theme, out: Path,
                  config: dict[str, Any]) -> Path:
    """Write ``letter`` in ``letter_style`` to ``out``; return ``out``."""
    settings = resolve(config)
    template = "letters/easy_read.html" if letter_style == "easy_read" else "letters/letter.html"
    with tempfile.TemporaryDirectory(prefix="storykit-letter-") as tmp:
        task = partial(_make, letter, letter_style, theme, settings, template, Path(tmp))
        made = run_limited(task, timeout=TIMEOUT, memory_mb=MEMORY_MB,
                           label=f"the {letter.kind} letter",
                           hint="Try again when the computer is less busy.")
        with made.open("rb") as src:
            write_atomic(out, lambda f: shutil.copyfileobj(src, f, 1 << 20))
    return out


def _make(letter, letter_style: str, theme: Theme, settings: dict[str, Any], template: str,
          work: Path) -> Path:
    html = letter_html(letter, letter_style, theme, settings, template)
    sheet = style.stylesheet(theme, letter_style)
    roots = [folder / "static" for folder in theme.folders if (folder / "static").is_dir()]
    return html_to_pdf(html, work / "letter.pdf", base_dir=work, allowed=[*roots, ICONS],
                       variant=DEFAULT_VARIANT, stylesheets=[sheet])


def letter_html(letter, letter_style: str, theme: Theme, settings: dict[str, Any],
                template: str) -> str:
    """The letter's HTML from the theme's (or this plugin's) template."""
    env = theme.environment(None, [TEMPLATES])
    env.filters["bold"] = bold
    icons = {path.stem: path.resolve().as_uri() for path in ICONS.glob("*.svg")}
    values = {"letter": letter, "style": letter_style, "settings": settings,
              "date": nice_date(letter.date), "icons": icons,
              "site": {"title": letter.organisation}}
    try:
        return env.get_template(template).render(**values)
    except jinja2.TemplateError as exc:
        raise StorykitError(f"theme {theme.name!r}: the template {template} cannot be used "
                            f"({type(exc).__name__}: {exc})") from None


def bold(text: str) -> Markup:
    """``text`` escaped, with ``**words**`` in bold (the only markup letters use)."""
    escaped = str(escape(text))
    return Markup(_BOLD.sub(r"<strong>\1</strong>", escaped))  # noqa: S704 - escaped first
