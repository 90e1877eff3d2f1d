"""The built-in themes (nhs, high-contrast, large-print), offered through the themes hook."""

from __future__ import annotations

from pathlib import Path

from .hookspecs import hookimpl


def builtin_themes_dir() -> Path:
    """Installed packages carry the themes inside storykit; a checkout has them at its root."""
    packaged = Path(__file__).parent / "_themes"
    return packaged if packaged.is_dir() else Path(__file__).resolve().parent.parent / "themes"


@hookimpl(trylast=True)
def register_themes(site) -> list[Path]:
    root = builtin_themes_dir()
    return sorted(p for p in root.iterdir() if (p / "theme.toml").is_file()) if root.is_dir() else []
