"""Response headers on every answer, and a cross-site check on every state-changing request.

The Content-Security-Policy allows scripts, styles, images and fonts only from this site's own
files: no inline ``<script>``, no ``style=`` attributes, no plugins, no ``<base>``, no framing.
Everything but static files is ``Cache-Control: no-store`` (pages hold private data).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response, abort, g, request

from .settings import is_development

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
       "font-src 'self'; connect-src 'self'; form-action 'self'; object-src 'none'; "
       "base-uri 'none'; frame-ancestors 'none'")
PERMISSIONS = ("accelerometer=(), autoplay=(), camera=(), display-capture=(), geolocation=(), "
               "gyroscope=(), magnetometer=(), microphone=(), midi=(), payment=(), usb=(), "
               "interest-cohort=()")
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def add_headers(response: Response) -> Response:
    """``after_request``: the security headers (ASVS 3.4) on every response."""
    headers = response.headers
    headers["Content-Security-Policy"] = g.get("csp", CSP)  # a stricter one where a view asks
    headers["X-Content-Type-Options"] = "nosniff"
    headers["X-Frame-Options"] = "DENY"
    headers["Referrer-Policy"] = g.get("referrer_policy", "same-origin")
    if g.get("robots"):
        headers["X-Robots-Tag"] = g.robots
    headers["Permissions-Policy"] = PERMISSIONS
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    headers["Cross-Origin-Resource-Policy"] = "same-origin"
    if request.endpoint == "static" and response.status_code < 400:
        headers["Cache-Control"] = "public, max-age=3600"
    else:
        headers["Cache-Control"] = "no-store"
        headers["Pragma"] = "no-cache"
    if not is_development(_config()):
        headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    return response


def _config() -> dict:
    from flask import current_app

    return current_app.config


def refuse_cross_site() -> None:
    """``before_request``: a state-changing request sent by another site's page is refused
    (400) even before the CSRF token is checked. Browsers say where a request came from in
    ``Sec-Fetch-Site`` and ``Origin``; requests without them (other tools) rely on the token."""
    if request.method not in UNSAFE_METHODS:
        return
    if request.headers.get("Sec-Fetch-Site", "same-origin") not in ("same-origin", "none"):
        abort(400, "cross-site")
    origin = request.headers.get("Origin")
    if origin and origin != "null" and urlsplit(origin).netloc != request.host:
        abort(400, "cross-site")
    if origin == "null":
        abort(400, "cross-site")


def install(app: Flask) -> None:
    app.before_request(refuse_cross_site)
    app.after_request(add_headers)
