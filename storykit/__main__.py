"""``python -m storykit`` runs the command line."""

from .cli import main

main()
