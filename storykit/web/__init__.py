"""The browser app: ``create_app(site)`` builds it; ``storykit serve`` runs it with waitress;
``flask --app storykit.web run`` runs it for development (site from ``STORYKIT_SITE`` or the
nearest storykit.toml upwards; set ``STORYKIT_ENV=development`` for plain http).

Flask is imported only when the app is built, so the command line stays quick to start.
See docs/app.md for how the app is put together.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from .app import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from .app import create_app

        return create_app
    raise AttributeError(name)
