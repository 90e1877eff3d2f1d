"""The A3 "You said, we did" poster: a service's newest done outcomes, in the theme's colours,
as a tagged PDF/UA-1 (each picture with its alternative text), made like every storykit PDF:
in a child process with time and memory limits, reading only the theme's and this plugin's
files, written atomically."""

from __future__ import annotations

import shutil
import tempfile
from functools import partial
from pathlib import Path

from storykit import StorykitError, load_theme
from storykit.kit import (
    DEFAULT_VARIANT,
    TooManyPages,
    html_to_pdf,
    is_hex,
    nice_date,
    publication_set,
    run_limited,
    site_info,
    today,
    write_atomic,
)

from .pages import OTHER, by_service, service_path

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
#: How many changes fit on one A3 page at the poster's sizes.
MOST = 6
TICK_ALT = "A green tick"
COLOURS = {"primary": "#005EB8", "primary_dark": "#003087", "text": "#212B32"}


class PosterError(StorykitError):
    """A poster that cannot be made as asked (the message says why)."""


def write_poster(site, service: str, out: Path, *, theme: str | None = None,
                 force: bool = False) -> Path:
    """Write the poster of ``service`` (its name as outcomes record it) to ``out``."""
    out = Path(out)
    if out.suffix.lower() != ".pdf":
        raise PosterError("the poster's file name must end in .pdf")
    if not out.parent.is_dir():
        raise PosterError(f"the folder {str(out.parent)!r} does not exist")
    if (out.exists() or out.is_symlink()) and not force:
        raise PosterError(f"{out} already exists; use --force to replace it")
    groups = by_service(site)
    key = service if service in groups else (OTHER if not service.strip() else None)
    if key is None or key not in groups:
        known = ", ".join(groups) or "none yet"
        raise PosterError(f"no done outcomes for the service {service[:60]!r} (services with "
                          f"done outcomes: {known})")
    public = {p.id: p.view.title for p in publication_set(site, "public_website").stories}
    info = site_info(site)
    changes = [{"title": o.title, "done": nice_date(o.done_on),
                "stories": [public[i] for i in o.story_ids if i in public]}
               for o in groups[key][:MOST]]
    address = (info.base_url.rstrip("/") + "/" + service_path(key)) if info.base_url else ""
    values = {"service": key, "changes": changes, "more": max(0, len(groups[key]) - MOST),
              "organisation": info.organisation or info.title, "address": address,
              "email": info.contact_email, "made": nice_date(today()),
              "tick": (STATIC / "tick.svg").resolve().as_uri(), "tick_alt": TICK_ALT,
              "language": info.language or "en-GB"}
    chosen = load_theme(site, theme)
    with tempfile.TemporaryDirectory(prefix="storykit-poster-") as tmp:
        made = run_limited(partial(_make, values, chosen, Path(tmp)), timeout=120,
                           memory_mb=1024, label="the poster",
                           hint="Try again when the computer is less busy.")
        with made.open("rb") as src:
            write_atomic(out, lambda f: shutil.copyfileobj(src, f, 1 << 20))
    return out


def _make(values: dict, theme, work: Path) -> Path:
    """One A3 page: with as many of the newest changes as fit (long titles take room)."""
    env = theme.environment(None, [TEMPLATES])
    roots = [folder / "static" for folder in theme.folders if (folder / "static").is_dir()]
    changes, more = values["changes"], values["more"]
    for shown in range(len(changes), 0, -1):
        html = env.get_template("yousaid/poster.html").render(
            **{**values, "changes": changes[:shown], "more": more + len(changes) - shown})
        try:
            return html_to_pdf(html, work / "poster.pdf", base_dir=work,
                               allowed=[*roots, STATIC], variant=DEFAULT_VARIANT,
                               stylesheets=[stylesheet(theme)], max_pages=1)
        except TooManyPages:
            continue
    raise PosterError("the poster does not fit on one A3 page: shorten the outcome's title")


def stylesheet(theme) -> str:
    c = dict(COLOURS)
    for key in c:
        value = theme.colours.get(key)
        if value is not None:
            if not isinstance(value, str) or not is_hex(value):
                raise PosterError(f"theme {theme.name!r}: [colours] {key} must be a colour "
                                  "like \"#005EB8\"")
            c[key] = value
    return f"""
@page {{ size: A3 portrait; margin: 18mm; }}
html {{ font-family: "Liberation Sans", Arial, sans-serif; color: {c['text']};
        font-size: 18pt; line-height: 1.3; }}
body {{ margin: 0; }}
header {{ background: {c['primary']}; color: #fff; padding: 12mm 14mm; }}
h1 {{ font-size: 54pt; margin: 0; line-height: 1.1; }}
header p {{ font-size: 26pt; margin: 4mm 0 0; }}
.intro {{ font-size: 24pt; margin: 10mm 0 6mm; }}
ul.changes {{ list-style: none; margin: 0; padding: 0; }}
ul.changes li {{ display: flex; align-items: flex-start; margin: 0 0 6mm; break-inside: avoid; }}
ul.changes img {{ width: 18mm; height: 18mm; margin-right: 8mm; flex: none; }}
h2 {{ font-size: 24pt; margin: 0 0 2mm; color: {c['primary_dark']}; line-height: 1.2; }}
.done, .because {{ margin: 0; }}
footer {{ border-top: 2mm solid {c['primary']}; margin-top: 8mm; padding-top: 5mm;
          font-size: 18pt; }}
footer p {{ margin: 0 0 2mm; }}
"""
