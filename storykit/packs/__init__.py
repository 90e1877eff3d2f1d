"""Presentation packs: one zip of artefacts for one use and audience, with a manifest and a
consent notice, decided for today and recorded with who the copies went to.

- :class:`PackDefinition`: what a pack is asked to be (plain data; saved as JSON).
- :func:`build_pack` / :func:`rebuild_pack`: make the zip and record it (one function a
  background job can run; progress through a callback). :class:`PackResult` says what
  went in and what was left out, and why.
- :func:`record_download`: a pack handed out by the browser app, in the distribution log.
- :class:`PackLog`: the record of packs, their recipients and stories, and saved
  definitions (the core's ``packs``, ``pack_recipients``, ``pack_stories`` and
  ``pack_definitions`` tables).

See docs/packs.md.
"""

from __future__ import annotations

from .build import (
    PackFile,
    PackResult,
    Refusal,
    build_pack,
    check_output,
    delete_kept_packs,
    new_pack_id,
    pack_folder,
    rebuild_pack,
)
from .definition import LENGTHS, PackDefinition, PackError
from .downloads import PACK_FORMAT, record_download
from .notice import NOTICE_FILE, pack_notice
from .records import PackLog, PackRecord, PackStory, SavedDefinition
from .selection import Chosen, select_stories

__all__ = [
    "LENGTHS", "NOTICE_FILE", "PACK_FORMAT", "Chosen", "PackDefinition", "PackError", "PackFile", "PackLog",
    "PackRecord", "PackResult", "PackStory", "Refusal", "SavedDefinition", "build_pack",
    "check_output", "delete_kept_packs", "new_pack_id", "pack_folder", "pack_notice",
    "rebuild_pack", "record_download", "select_stories",
]
