"""The app factory: :func:`create_app` builds the browser app for one site.

Order of the request hooks matters and is set here once: load the user from the session, send
anonymous visitors to sign in (or to the first-admin page), refuse cross-site posts, then check
the CSRF token (Flask-WTF), then the view. After the view, security headers go on every answer.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

from ..errors import ConfigError
from ..site import Site
from . import auth, errors, security, uploads, workload
from .settings import build_config, is_development
from .state import AppState

SITE_ENV = "STORYKIT_SITE"

#: The app's own areas, in the order they are registered. Add a new area here.
BLUEPRINTS = (
    "storykit.web.views.auth:bp",
    "storykit.web.views.home:bp",
    "storykit.web.views.stories:bp",
    "storykit.web.views.editor:bp",
    "storykit.web.views.media:bp",
    "storykit.web.views.consent:bp",
    "storykit.web.views.history:bp",
    "storykit.web.views.review:bp",
    "storykit.web.views.publishing:bp",
    "storykit.web.views.admin:bp",
    "storykit.web.views.jobs:bp",
    "storykit.web.views.health:bp",
    "storykit.web.views.packs:bp",
    "storykit.web.views.copies:bp",
    "storykit.web.views.outcomes:bp",
    "storykit.web.views.signoff:bp",
    "storykit.web.views.consent_link:bp",
    "storykit.web.views.teller:bp",
)


def site_from_environment() -> Site:
    """The site named by ``STORYKIT_SITE``, else the nearest storykit.toml upwards."""
    path = os.environ.get(SITE_ENV)
    if path:
        if not (Path(path) / "storykit.toml").is_file():
            raise ConfigError(f"{SITE_ENV}={path}: no storykit.toml there")
        return Site.open(path)
    return Site.discover()


def create_app(site: Site | None = None, **overrides: Any) -> Flask:
    """The browser app for ``site`` (default: from the environment). ``overrides`` replace
    settings (see storykit.web.settings.DEFAULTS), e.g. ``STORYKIT_ENV="development"``."""
    site = site or site_from_environment()
    app = Flask("storykit.web", instance_path=str(site.instance), instance_relative_config=False)
    app.config.update(build_config(site.instance, overrides))
    app.extensions["storykit"] = AppState(site, app.config)
    proxies = int(app.config["STORYKIT_PROXY_COUNT"])
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies,  # type: ignore[method-assign]
                                x_host=proxies)
    app.before_request(uploads.allow_uploads)  # first: before anything reads a form
    app.before_request(auth.load_user)
    app.before_request(auth.require_login)
    app.before_request(workload.turn_away_early)  # before the CSRF check reads a big form
    security.install(app)
    CSRFProtect(app)
    errors.install(app)
    _templates(app, site)
    for blueprint in _blueprints(site):
        app.register_blueprint(blueprint)
    if is_development(app.config):
        app.logger.info("storykit: development mode (cookies work over http)")
    return app


def _blueprints(site: Site) -> list:
    from importlib import import_module

    found = []
    for spec in BLUEPRINTS:
        module, name = spec.split(":")
        found.append(getattr(import_module(module), name))
    found += site.plugins.flat("register_blueprints", site=site)
    return found


def _templates(app: Flask, site: Site) -> None:
    from . import templating

    templating.install(app, site)
