"""storykit_yousaid: "You said, we did", through public hooks only.

- On the public website (``web_pages``): a page per service listing the outcomes that are
  done, newest first, each with links to the published stories behind it. A story is linked
  only while it is on the website (published, and consent allows ``public_website`` today);
  otherwise the outcome stands without it. A withdrawn story's link goes at the next build.
  The pages are in the site's feed and search index.
- An A3 poster per service for notice boards (``storykit yousaid poster``): a tagged PDF/UA-1
  in the theme's colours, every picture with its alternative text.
- An outcome becoming done, or a done one changing what the public sees of it
  (``after_outcome_change``), queues a site build, as publishing a story does: the website
  shows it once a worker has built it.

Only what the public may see of an outcome reaches this plugin (``storykit.kit.done_outcomes``:
its title, service and the day it was done). See docs/outcomes.md.
"""

from __future__ import annotations

from storykit import hookimpl

__version__ = "0.1.0"
PLUGIN = "storykit_yousaid"


@hookimpl
def web_pages(site, stories):
    from .pages import web_pages as pages

    return pages(site, stories)


@hookimpl
def register_commands(cli):
    from .commands import yousaid_group

    cli.add_command(yousaid_group)


#: What the public sees of an outcome (storykit.kit.done_outcomes).
PUBLIC_FIELDS = ("status", "title", "service", "done_on", "story_ids")


@hookimpl
def after_outcome_change(site, outcome, old, by):
    """A change the public would see goes on the website at the next build."""
    from storykit.kit import queue_site_build

    if "done" not in (outcome.status, getattr(old, "status", None)):
        return
    if old is not None and all(getattr(old, f) == getattr(outcome, f) for f in PUBLIC_FIELDS):
        return
    queue_site_build(site, by=by)
