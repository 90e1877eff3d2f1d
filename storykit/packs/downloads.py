"""A pack downloaded from storykit (the browser app hands out the zips it keeps) is a copy
of each story in it: recorded in the distribution log, one entry a story, so "where has this
story gone?" and the takedown checklist name who downloaded which pack and when."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..distribution import DOWNLOAD_JOB
from .records import PackRecord

if TYPE_CHECKING:  # pragma: no cover
    from ..site import Site

#: The format name a downloaded pack is recorded under (storykit.copies says it in words).
PACK_FORMAT = "pack"


def record_download(site: Site, pack: PackRecord, *, by: str) -> list[int]:
    """Record that ``by`` downloaded ``pack``: one distribution entry for each of its
    stories (the consent version the pack was built with; no path on the server, only the
    pack and its file name), and an audit entry. Returns the entries' ids."""
    ids = []
    with site.distributions.transaction() as log:
        for story in pack.stories:
            ids.append(log.record(
                story_id=story.story_id, consent_version=story.consent_version, use=pack.use,
                format=PACK_FORMAT, sha256=pack.sha256, path=f"{pack.id}:{pack.file_name}",
                created_by=by, job=f"{DOWNLOAD_JOB}:{pack.id}", pack_id=pack.id))
        site.audit.record("pack.downloaded", actor=by,
                          detail=f"{pack.id}: {len(pack.stories)} stories for {pack.use}")
    return ids


def is_download(job: str | None) -> bool:
    """Whether a distribution entry's ``job`` says it is a download (not the pack's build)."""
    return bool(job) and str(job).startswith(DOWNLOAD_JOB)
