"""storykit_pptx: an editable PowerPoint deck with speaker notes (format ``pptx``), from the
shared slide plan (:mod:`storykit_slides.plan`), optionally on the organisation's template."""

from __future__ import annotations

from storykit import Format, hookimpl


def _pptx(job):
    from .build import render_pptx

    return render_pptx(job)


@hookimpl
def register_formats(site):
    return [Format("pptx", _pptx, "PowerPoint: editable slides with speaker notes and alt text",
                   extension=".pptx", multi=True, parallel=True, lengths=("full", "summary"))]


@hookimpl
def check_plugin_config(site):
    """``[plugins.storykit_pptx] template`` must be a real 16:9 .pptx inside the site."""
    config = site.config.plugin_config("storykit_pptx")
    if not config:
        return []  # nothing to check: python-pptx need not even be imported
    from .template import config_problems

    return config_problems(config, site.root)
