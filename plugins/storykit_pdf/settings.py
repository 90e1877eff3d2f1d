"""Settings for the PDF formats, from ``[plugins.storykit_pdf]`` in storykit.toml and from
render options, checked with messages that say what to write instead."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from storykit import StorykitError
from storykit.kit import DEFAULT_VARIANT, VARIANTS

#: name -> (lowest, highest) for number settings.
_RANGES: dict[str, tuple[float, float]] = {
    "timeout": (1, 3600),
    "memory_mb": (128, 65536),
    "image_max_width": (200, 4000),
}
KNOWN = ("variant", *_RANGES)


@dataclass(frozen=True)
class PdfSettings:
    """How PDFs are made. ``timeout`` (seconds) and ``memory_mb`` limit each render;
    ``image_max_width`` is the widest a picture is embedded, in pixels."""

    variant: str = DEFAULT_VARIANT
    timeout: float = 300
    memory_mb: int = 2048
    image_max_width: int = 1200


def problems(values: Mapping[str, Any]) -> list[str]:
    """Every problem with ``values`` as plain sentences; an empty list when all is well."""
    found = [f"unknown setting {key!r}; known settings: {', '.join(KNOWN)}"
             for key in values if key not in KNOWN]
    if "variant" in values:
        variant = values["variant"]
        if not isinstance(variant, str) or variant.lower() not in VARIANTS:
            found.append(f"variant must be one of {', '.join(VARIANTS)} "
                         f"(for example variant = \"{DEFAULT_VARIANT}\")")
    for key, (low, high) in _RANGES.items():
        if key in values and not _number_in(values[key], low, high, whole=key != "timeout"):
            kind = "a number of seconds" if key == "timeout" else "a whole number"
            found.append(f"{key} must be {kind} from {low:g} to {high:g}")
    return found


def _number_in(value: Any, low: float, high: float, *, whole: bool) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    if whole and not isinstance(value, int):
        return False
    return low <= value <= high


def resolve(config: Mapping[str, Any], options: Mapping[str, Any]) -> PdfSettings:
    """Settings for one render: storykit.toml first, then render options on top.

    Raises :class:`StorykitError` naming each bad setting (the site's configuration is also
    checked when storykit starts, through ``check_plugin_config``)."""
    bad = [f"[plugins.storykit_pdf] {p}" for p in problems(config)]
    bad += [f"render option {p}" for p in problems(options)]
    if bad:
        raise StorykitError("cannot make the PDF: " + "; ".join(bad))
    merged = {**config, **options}
    if "variant" in merged:
        merged["variant"] = merged["variant"].lower()
    return replace(PdfSettings(), **merged)
