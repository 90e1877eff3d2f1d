"""storykit_slides: an offline HTML slide deck (``slides``), its PDF (``slides-pdf``) and an
A4 handout (``handout``), all from the shared slide plan (:mod:`storykit_slides.plan`)."""

from __future__ import annotations

from pathlib import Path

from storykit import Format, hookimpl

TEMPLATES = Path(__file__).parent / "templates"
#: A deck's lengths: every slide of each story, or at most six a story (``--length summary``).
LENGTHS = ("full", "summary")


def _slides(job):
    from .deck import render_slides

    return render_slides(job)


def _slides_pdf(job):
    from .pdf import render_slides_pdf

    return render_slides_pdf(job)


def _handout(job):
    from .pdf import render_handout

    return render_handout(job)


@hookimpl
def register_formats(site):
    return [
        Format("slides", _slides, "Slides: one HTML file that works offline, with a "
               "presenter view", extension=".html", multi=True, parallel=True, lengths=LENGTHS),
        Format("slides-pdf", _slides_pdf, "Slides as a PDF, one slide a page",
               extension=".pdf", multi=True, parallel=True, lengths=LENGTHS),
        Format("handout", _handout, "A4 handout: the slides with notes, or space for notes",
               extension=".pdf", multi=True, parallel=True, lengths=LENGTHS),
    ]


@hookimpl
def check_plugin_config(site):
    """``[plugins.storykit_slides]``: the PDF variant and the time and memory limits."""
    from .settings import problems

    return problems(site.config.plugin_config("storykit_slides"))
