"""``python -m storykit`` runs the command line."""

from .cli import run

run()
