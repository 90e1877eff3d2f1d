"""storykit_yousaid: "You said, we did", through public hooks only.

- On the public website (``web_pages``): a page per service listing the outcomes that are
  done, newest first, each with links to the published stories behind it. A story is linked
  only while it is on the website (published, and consent allows ``public_website`` today);
  otherwise the outcome stands without it. A withdrawn story's link goes at the next build.
  The pages are in the site's feed and search index.
- An A3 poster per service for notice boards (``storykit yousaid poster``): a tagged PDF/UA-1
  in the theme's colours, every picture with its alternative text.

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
