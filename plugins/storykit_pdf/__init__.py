"""storykit_pdf: accessible PDFs of stories (formats ``pdf`` and ``booklet``) with WeasyPrint.

``pdf`` makes one PDF per story (several stories render on several cores); ``booklet`` puts
every story of a job into one PDF with a cover, contents with page numbers, a running story
title, "Page X of Y" and a consent line in the footer. PDFs are tagged PDF/UA-1 by default;
``[plugins.storykit_pdf] variant = "pdf/a-3a"`` in storykit.toml (or the ``variant`` render
option) picks another. See docs/pdf.md.
"""

from __future__ import annotations

from storykit import Format, hookimpl

from . import settings

__version__ = "0.1.0"
PLUGIN = "storykit_pdf"


def render_pdf(job):
    """One PDF per story (WeasyPrint is imported only when something is rendered)."""
    from .build import render_pdf as render

    return render(job)


def render_booklet(job):
    from .build import render_booklet as render

    return render(job)


@hookimpl
def register_formats(site) -> list[Format]:
    return [
        Format("pdf", render_pdf, "One story as an accessible PDF (PDF/UA-1)", ".pdf",
               parallel=True),
        Format("booklet", render_booklet, "Several stories in one accessible PDF with a "
               "cover and contents", ".pdf", multi=True, parallel=True),
    ]


@hookimpl
def check_plugin_config(site) -> list[str]:
    return settings.problems(site.config.plugin_config(PLUGIN))
