"""The print stylesheet, made from the theme's settings.

It is written in Python rather than in a template because theme values end up inside CSS,
where HTML escaping would be wrong and an unchecked value could smuggle in rules. Every value
taken from a theme is checked against a strict pattern first.
"""

from __future__ import annotations

import re
from pathlib import Path

from weasyprint.urls import path2url

from storykit import StorykitError, Theme

#: NHS identity colours, used for any colour a theme does not set.
DEFAULT_COLOURS = {
    "primary": "#005EB8", "primary_dark": "#003087", "text": "#212B32",
    "secondary_text": "#4C6272", "link": "#005EB8", "border": "#D8DDE0",
    "panel": "#F0F4F5", "warning": "#FFB81C",
}
_COLOUR = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
_SIZE = re.compile(r"^(\d{1,2}(?:\.\d)?)pt$")
_FAMILY = re.compile(r"^[A-Za-z0-9 ,'\"-]{1,200}$")
_FONT_NAME = re.compile(r"^[A-Za-z0-9 -]{1,60}$")
BODY_SIZES = (9.0, 36.0)  # points


def css_string(text: str) -> str:
    """``text`` as a double-quoted CSS string."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + re.sub(r"[\n\r\f]", "\\\\A ", escaped) + '"'


def theme_problem(theme: Theme, what: str) -> StorykitError:
    return StorykitError(f"theme {theme.name!r}: {what}")


def colours(theme: Theme) -> dict[str, str]:
    """The theme's colours that the PDF uses, each checked to be a #RRGGBB colour."""
    out = dict(DEFAULT_COLOURS)
    for key, value in theme.colours.items():
        if key not in out:
            continue
        if not isinstance(value, str) or not _COLOUR.match(value):
            raise theme_problem(theme, f"[colours] {key} must be a colour like \"#005EB8\"")
        out[key] = value
    return out


def body_size(theme: Theme) -> float:
    """Body text size in points from ``[print] body_size`` (12pt; 18pt for large print)."""
    section = theme.settings.get("print", {})
    value = section.get("body_size", "12pt") if isinstance(section, dict) else None
    match = _SIZE.match(value) if isinstance(value, str) else None
    size = float(match.group(1)) if match else 0
    if not BODY_SIZES[0] <= size <= BODY_SIZES[1]:
        raise theme_problem(theme, f"[print] body_size must be a size in points from "
                                   f"{BODY_SIZES[0]:g}pt to {BODY_SIZES[1]:g}pt, like \"12pt\"")
    return size


def font_faces(theme: Theme) -> tuple[str, str]:
    """``(@font-face rules, font-family list)``: the theme's open font embedded from its
    static files, then the theme's family list as a fallback."""
    fonts = theme.fonts
    name = fonts.get("name", "Liberation Sans")
    family = fonts.get("family", "sans-serif")
    if not isinstance(name, str) or not _FONT_NAME.match(name):
        raise theme_problem(theme, "[fonts] name must be a font name (letters, digits, "
                                   "spaces and -)")
    if not isinstance(family, str) or not _FAMILY.match(family):
        raise theme_problem(theme, "[fonts] family must be a list of font names")
    rules = []
    for key, weight in (("regular", "normal"), ("bold", "bold")):
        file = theme.font_file(key)
        if file is not None:
            rules.append(_font_face(name, file, weight))
    return "\n".join(rules), f"{css_string(name)}, {family}, sans-serif"


def _font_face(name: str, file: Path, weight: str) -> str:
    return (f"@font-face {{ font-family: {css_string(name)}; font-weight: {weight}; "
            f"font-style: normal; src: url({css_string(path2url(str(file.resolve())))}); }}")


def stylesheet(theme: Theme, *, draft_mark: str | None, variant: str | None) -> str:
    """The whole print stylesheet: A4, the theme's colours and font, left-aligned text with
    no italics, running story title, "Page X of Y" and the consent line in the footer."""
    c = colours(theme)
    size = body_size(theme)
    faces, family = font_faces(theme)
    small = round(max(size * 0.8, 9), 1)
    draft = (f"@top-right {{ content: {css_string(draft_mark)}; font-weight: bold; "
             f"color: {c['text']}; background: {c['warning']}; padding: 2pt 6pt; }}"
             if draft_mark else "")
    rendering = "img { image-rendering: crisp-edges; }" if variant and "/a-" in variant else ""
    return _TEMPLATE.format(faces=faces, family=family, size=f"{size:g}pt", small=f"{small:g}pt",
                            draft=draft, rendering=rendering, **c)


_TEMPLATE = """
{faces}
@page {{
  size: A4;
  margin: 24mm 18mm 26mm 18mm;
  @top-left {{ content: string(story-title); font-family: {family}; font-size: {small};
              color: {secondary_text}; vertical-align: bottom; padding-bottom: 4mm; }}
  {draft}
  @bottom-left {{ content: string(consent); font-family: {family}; font-size: {small};
                 color: {secondary_text}; width: 70%; vertical-align: top; padding-top: 4mm; }}
  @bottom-right {{ content: "Page " counter(page) " of " counter(pages); font-family: {family};
                  font-size: {small}; color: {secondary_text}; vertical-align: top;
                  padding-top: 4mm; }}
}}
@page cover {{ @top-left {{ content: none; }} @bottom-left {{ content: none; }} }}
html {{ font-family: {family}; font-size: {size}; line-height: 1.5; color: {text}; }}
body {{ margin: 0; text-align: left; hyphens: manual; }}
em, i, cite, q, dfn, var, address, blockquote {{ font-style: normal; }}
em, i {{ font-weight: bold; }}
h1, h2, h3, h4, h5, h6 {{ color: {primary_dark}; line-height: 1.25; bookmark-level: none;
  break-after: avoid; text-align: left; }}
h1 {{ font-size: 2em; margin: 0 0 0.4em; }}
h2 {{ font-size: 1.4em; margin: 1.2em 0 0.4em; }}
h3, h4, h5, h6 {{ font-size: 1.15em; margin: 1em 0 0.3em; }}
p, li {{ orphans: 2; widows: 2; }}
a {{ color: {link}; }}
.cover {{ page: cover; break-after: page; padding-top: 30mm; border-top: 12pt solid {primary}; }}
.cover h1 {{ font-size: 2.4em; }}
.cover .organisation {{ font-size: 1.3em; font-weight: bold; }}
.pack-notice {{ page: cover; break-after: page; padding-top: 30mm;
  border-top: 12pt solid {primary}; }}
.pack-notice h1 {{ bookmark-level: 1; bookmark-label: content(text); }}
.pack-closing {{ break-before: page; }}
.pack-closing h1 {{ bookmark-level: 1; bookmark-label: content(text); }}
.contents {{ page: cover; break-after: page; }}
.contents ol {{ list-style: none; padding: 0; }}
.contents li {{ margin: 0 0 0.4em; }}
.contents a {{ color: {text}; text-decoration: none; }}
.contents a::after {{ content: leader(".") " " target-counter(attr(href), page); }}
article.story {{ break-before: page; }}
h1.story-title {{ bookmark-level: 1; bookmark-label: content(text);
  string-set: story-title content(text); }}
.consent-line {{ string-set: consent content(text); font-size: 0.85em;
  color: {secondary_text}; border-bottom: 1pt solid {border}; padding-bottom: 0.3em; }}
.byline {{ font-weight: bold; }}
.summary {{ font-size: 1.1em; }}
.content-warning {{ background: {panel}; border-left: 4pt solid {primary}; padding: 0.4em 0.6em; }}
.draft-mark {{ font-weight: bold; background: {warning}; color: {text}; padding: 0.2em 0.5em; }}
.picture {{ margin: 0.8em 0; break-inside: avoid; }}
.picture img {{ max-width: 100%; max-height: 9cm; }}
blockquote {{ margin: 1em 0; padding: 0.2em 0 0.2em 1em; border-left: 4pt solid {primary};
  font-size: 1.1em; }}
blockquote .attribution {{ font-size: 0.85em; color: {secondary_text}; }}
.notes {{ background: {panel}; padding: 0.5em 1em; margin-top: 1.5em; }}
table {{ border-collapse: collapse; }}
th, td {{ border: 1pt solid {border}; padding: 0.2em 0.4em; text-align: left; }}
{rendering}
"""
