"""``[plugins.storykit_slides]`` settings: how the slide PDF and the handout are made.

    [plugins.storykit_slides]
    variant = "pdf/ua-1"   # PDF variant (all are tagged)
    timeout = 300          # seconds one PDF may take
    memory_mb = 2048       # memory one PDF may use
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from storykit import StorykitError
from storykit.kit import DEFAULT_VARIANT, VARIANTS

_RANGES: dict[str, tuple[float, float]] = {"timeout": (1, 3600), "memory_mb": (128, 65536)}
KNOWN = ("variant", *_RANGES)


@dataclass(frozen=True)
class PdfSettings:
    variant: str = DEFAULT_VARIANT
    timeout: float = 300
    memory_mb: int = 2048


def problems(values: Mapping[str, Any]) -> list[str]:
    """Every problem with ``values`` as sentences; empty when all is well."""
    found = [f"unknown setting {key!r}; known settings: {', '.join(KNOWN)}"
             for key in values if key not in KNOWN]
    variant = values.get("variant", DEFAULT_VARIANT)
    if not isinstance(variant, str) or variant.lower() not in VARIANTS:
        found.append(f"variant must be one of {', '.join(VARIANTS)} "
                     f"(for example variant = \"{DEFAULT_VARIANT}\")")
    for key, (low, high) in _RANGES.items():
        value = values.get(key, low)
        whole = key != "timeout"
        ok = (not isinstance(value, bool) and isinstance(value, int | float)
              and (isinstance(value, int) or not whole) and low <= value <= high)
        if not ok:
            kind = "a number of seconds" if key == "timeout" else "a whole number"
            found.append(f"{key} must be {kind} from {low:g} to {high:g}")
    return found


def resolve(config: Mapping[str, Any]) -> PdfSettings:
    """The settings for a render; a bad value is an error naming the setting."""
    bad = problems(config)
    if bad:
        raise StorykitError("cannot make the slide PDF: [plugins.storykit_slides] "
                            + "; ".join(bad))
    values = dict(config)
    if "variant" in values:
        values["variant"] = values["variant"].lower()
    return replace(PdfSettings(), **values)
