"""Packs asked for in the browser: an *order* keeps the pack's definition (use, formats,
stories, who it is for) in the app's ``pack_orders`` table, and the ``pack-build`` background
job builds it into the instance folder's ``packs/`` (storykit.packs.build_pack: consent
decided when the job runs). The job's parameters are only the order's id, so no title,
meeting or recipient reaches the jobs table; its result holds counts, ids and sentences.

Kept light: this module imports no Flask, so a worker loads it quickly.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..jobs import JobKind
from ..packs.definition import PackDefinition, PackError
from ..packs.records import new_id

if TYPE_CHECKING:  # pragma: no cover
    from ..db import Connection
    from ..jobs import Job, JobContext
    from ..site import Site

PACK_BUILD = "pack-build"


@dataclass(frozen=True)
class Order:
    id: str
    definition: PackDefinition
    definition_id: str | None
    rebuilt_from: str | None
    save_as: str | None
    created_by: str
    created_at: str
    job_id: int | None
    pack_id: str | None


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _order(row: Any) -> Order:
    return Order(row["id"], PackDefinition.from_json(row["definition"]), row["definition_id"],
                 row["rebuilt_from"], row["save_as"], row["created_by"], row["created_at"],
                 row["job_id"], row["pack_id"])


def find_order(conn: Connection, order_id: str) -> Order | None:
    row = conn.one("SELECT * FROM pack_orders WHERE id = :id", {"id": order_id})
    return _order(row) if row is not None else None


def order_pack(site: Site, definition: PackDefinition, *, by: str,
               definition_id: str | None = None, rebuilt_from: str | None = None,
               save_as: str | None = None) -> tuple[Order, Job]:
    """Keep ``definition`` as an order and queue the job that builds it."""
    from ..taskqueue import enqueue

    definition.checked()
    conn = site.database.connection()
    order_id = new_id("po")
    conn.execute("INSERT INTO pack_orders (id, definition, definition_id, rebuilt_from, "
                 "save_as, created_by, created_at) VALUES (:id, :definition, :definition_id, "
                 ":rebuilt_from, :save_as, :by, :now)",
                 {"id": order_id, "definition": definition.to_json(),
                  "definition_id": definition_id, "rebuilt_from": rebuilt_from,
                  "save_as": save_as, "by": by, "now": _now()})
    job = enqueue(site, PACK_BUILD, {"order": order_id}, by=by)
    conn.execute("UPDATE pack_orders SET job_id = :job WHERE id = :id",
                 {"job": job.id, "id": order_id})
    found = find_order(conn, order_id)
    assert found is not None
    return found, job


def run_pack_build(context: JobContext) -> dict[str, Any]:
    """The job: build the order's pack into the instance folder's ``packs/`` and record it."""
    from ..packs import PackLog, build_pack, new_pack_id, pack_folder

    site = context.site
    conn = site.database.connection()
    order = find_order(conn, str(context.params.get("order", "")))
    if order is None:
        raise PackError("the pack asked for is not on record any more")
    if order.pack_id:
        return {"message": "The pack was already made.", "pack": order.pack_id}
    pack_id = new_pack_id()
    folder = pack_folder(site)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)  # private: packs carry stories
    out = folder / f"{pack_id}.zip"
    context.progress(0.01, "Deciding which stories may go in the pack.", force=True)

    def progress(done: int, total: int, step: str) -> None:
        context.progress(min(0.99, done / max(total, 1)),
                         f"Making the pack: {done} of {total} parts done.")

    result = build_pack(site, order.definition, out, by=order.created_by, progress=progress,
                        definition_id=order.definition_id, rebuilt_from=order.rebuilt_from,
                        pack_id=pack_id)
    assert result.pack is not None
    conn.execute("UPDATE pack_orders SET pack_id = :pack WHERE id = :id",
                 {"pack": pack_id, "id": order.id})
    if order.save_as:
        PackLog(site.database).save_definition(order.save_as, result.pack.definition,
                                               by=order.created_by)
    stories, left = len(result.views), len(result.refused)
    words = (f"The pack was made with {stories} {'story' if stories == 1 else 'stories'}"
             + (f"; {left} {'was' if left == 1 else 'were'} left out." if left else "."))
    return {"message": words, "pack": pack_id, "stories": stories, "refused": left,
            "left_out": [r.story_id for r in result.refused]}


def job_kind() -> JobKind:
    return JobKind(PACK_BUILD, "Make a pack", run_pack_build, params=("order",))
