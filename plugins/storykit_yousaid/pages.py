"""The "You said, we did" pages of the public website, as data the website builder draws."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from storykit.kit import (
    PublicOutcome,
    WebItem,
    WebLink,
    WebPage,
    WebSection,
    done_outcomes,
    nice_date,
    slugify,
)

FOLDER = "you-said-we-did"
TITLE = "You said, we did"
OTHER = "Other services"
INTRO = ("People shared their stories with us. These are the changes we have made because "
         "of them.")


def by_service(site) -> dict[str, list[PublicOutcome]]:
    """Done outcomes grouped by service (those without one under "Other services")."""
    groups: dict[str, list[PublicOutcome]] = defaultdict(list)
    for outcome in done_outcomes(site):
        groups[outcome.service or OTHER].append(outcome)
    return dict(sorted(groups.items(), key=lambda kv: (kv[0] == OTHER, kv[0].lower())))


def service_path(service: str) -> str:
    return f"{FOLDER}/{slugify(service)[:60] or 'service'}.html"


def web_pages(site, stories: list[dict[str, Any]]) -> list[WebPage]:
    """An index page and one page per service with done outcomes (none when there are
    none: the pages then go from the website)."""
    groups = by_service(site)
    if not groups:
        return []
    cards = {c["id"]: c for c in stories}
    pages = []
    for service, outcomes in groups.items():
        items = tuple(_item(o, cards) for o in outcomes)
        pages.append(WebPage(
            path=service_path(service), title=f"{TITLE}: {service}", intro=INTRO,
            sections=(WebSection(f"What we changed in {service}", items=items),),
            links=(WebLink("Every service", f"{FOLDER}/index.html"),),
            updated=outcomes[0].done_on, service=service if service != OTHER else ""))
    pages.append(WebPage(
        path=f"{FOLDER}/index.html", title=TITLE, intro=INTRO,
        sections=(WebSection("Changes by service", items=tuple(
            WebItem(service, f"{len(outcomes)} change{'s' if len(outcomes) != 1 else ''} "
                             f"made, the latest in {outcomes[0].done_on:%B %Y}.",
                    links=(WebLink(f"See what we changed in {service}",
                                   service_path(service)),))
            for service, outcomes in groups.items())),),
        updated=max(o[0].done_on for o in groups.values())))
    return pages


def _item(outcome: PublicOutcome, cards: dict[str, dict[str, Any]]) -> WebItem:
    shown = [cards[i] for i in outcome.story_ids if i in cards]
    facts = [f"Done on {nice_date(outcome.done_on)}"]
    if not shown:
        facts.append("The stories behind this change are not published.")
    links = tuple(WebLink(f"Read the story: {c['title']}", c["page"]) for c in shown)
    return WebItem(outcome.title, facts=tuple(facts), links=links)
