"""``storykit build --serve``: a local preview of the built site on 127.0.0.1.

Python's http.server, with the headers a real host should send too (the same
Content-Security-Policy as the pages' meta tag, nosniff, no caching while previewing).
It is for previewing on your own computer, not for publishing.
"""

from __future__ import annotations

import functools
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from .pages import SITE_CSP


class PreviewHandler(SimpleHTTPRequestHandler):
    """Serves the build folder read-only, with safe headers, quietly."""

    extensions_map = {**SimpleHTTPRequestHandler.extensions_map,
                      ".js": "text/javascript", ".xml": "application/xml",
                      ".webp": "image/webp", ".ttf": "font/ttf"}

    def end_headers(self) -> None:
        self.send_header("Content-Security-Policy", SITE_CSP + "; frame-ancestors 'none'")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "strict-origin-when-cross-origin")
        self.send_header("Cache-Control", "no-cache")
        super().end_headers()

    def list_directory(self, path):  # noqa: ANN001 - http.server's signature
        self.send_error(404, "Not found")
        return None

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - http.server's name
        return None


def make_server(folder: Path, port: int = 8000, host: str = "127.0.0.1") -> ThreadingHTTPServer:
    """A server for ``folder`` on ``host:port`` (port 0 picks a free one); call
    ``serve_forever()`` on it, and ``shutdown()`` from another thread to stop it."""
    handler = functools.partial(PreviewHandler, directory=str(folder))
    return ThreadingHTTPServer((host, port), handler)
