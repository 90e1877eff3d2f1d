"""storykit_letters: letters to storytellers as tagged PDF/UA-1, in standard print, large
print (body 18pt, nothing under 16pt) or Easy Read (short sentences, key words in bold, a
picture beside each idea), drawn in the site's theme (the ``render_letter`` hook).

The core makes each letter's words (``storykit.letters``); this plugin only lays them out.
Settings (all optional), in storykit.toml::

    [plugins.storykit_letters]
    return_address = ["Patient Experience Team", "Brackenford General Hospital", "BF1 1AA"]
    phone = "01632 960 000"
    signature = "Sam Lee, Patient Experience Lead"
"""

from __future__ import annotations

from storykit import hookimpl

__version__ = "0.1.0"
PLUGIN = "storykit_letters"


@hookimpl
def render_letter(site, letter, style, theme, out):
    from .render import render_letter as draw

    return draw(letter, style, theme, out, site.config.plugin_config(PLUGIN))


@hookimpl
def check_plugin_config(site) -> list[str]:
    from .settings import problems

    return problems(site.config.plugin_config(PLUGIN))
