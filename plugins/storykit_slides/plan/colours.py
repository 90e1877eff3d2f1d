"""The theme's slide colours, checked: plain colours only (theme files are untrusted and
these go into CSS) and text contrast of at least 4.5:1 (WCAG 2.2 AA)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from storykit.kit import contrast_ratio, is_hex, long_hex

from .parts import SlideError

if TYPE_CHECKING:  # pragma: no cover
    from storykit import Theme

PALETTE_DEFAULTS = {
    "primary": "#005EB8", "on_primary": "#FFFFFF", "text": "#212B32",
    "secondary_text": "#4C6272", "background": "#FFFFFF", "panel": "#F0F4F5",
    "focus": "#FFEB3B", "warning": "#FFB81C", "link": "#005EB8", "border": "#D8DDE0",
}
#: (foreground, background, minimum ratio) pairs that slides put together.
_CONTRAST_PAIRS = (("on_primary", "primary", 4.5), ("text", "background", 4.5),
                   ("secondary_text", "background", 4.5), ("link", "background", 4.5),
                   ("text", "panel", 4.5), ("text", "warning", 4.5), ("text", "focus", 4.5))


def palette(theme: Theme) -> dict[str, str]:
    """The theme's slide colours, checked: ``#rgb``/``#rrggbb`` only (theme files are
    untrusted and these go into CSS), and text contrast at least 4.5:1 (WCAG AA)."""
    colours = dict(PALETTE_DEFAULTS)
    for key, value in theme.colours.items():
        if key not in colours:
            continue
        if not is_hex(value):
            raise SlideError(f"theme {theme.name!r}: colour {key} must be written like "
                             f"#005EB8, not {str(value)[:40]!r}")
        colours[key] = long_hex(value)
    for fore, back, minimum in _CONTRAST_PAIRS:
        ratio = contrast_ratio(colours[fore], colours[back])
        if ratio < minimum:
            raise SlideError(f"theme {theme.name!r}: {fore} {colours[fore]} on {back} "
                             f"{colours[back]} has contrast {ratio:.1f}:1; slides need at "
                             f"least {minimum}:1")
    return colours
