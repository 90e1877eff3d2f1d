"""Bounded heavy work: the editor's live checks and previews run Markdown, the privacy checks
and the theme's templates over whatever a person sends, so a few people (or one, in several
tabs) must not be able to slow the app down for everyone, and sign-in least of all.

* **Each piece of work is short.** :func:`storykit.markup.check_complexity` refuses, in words,
  text that would take Python-Markdown long (too many blocks, list items, headings inside long
  paragraphs...), so one check takes at most about half a second on a busy machine.
* **A few at a time.** Work needs one of ``STORYKIT_HEAVY_SLOTS`` slots (default 2, well under
  waitress's threads, so other pages always find a free thread). At most
  ``STORYKIT_HEAVY_QUEUE`` requests (default 2) wait for a slot, each at most ``wait``
  seconds; any more are turned away at once, never queued, as a queue would hold threads.
* **Fair.** One person holds at most one slot, and has a budget of
  ``STORYKIT_HEAVY_BUDGET`` seconds of work per minute (default 20; typing in the editor uses
  a few); past it, their checks wait until the oldest work leaves the minute.

Turned away, a request raises :class:`Busy`, whose message tells the person in plain words to
try again in a moment (the editor's script does so by itself); nothing they typed is lost.
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator

WINDOW = 60.0  # seconds the budget covers


#: Views answered with 429 before their form is read when there is no room anyway: reading a
#: 250 KB form costs the app more than the whole answer (the live check is sent over and over).
TURNED_AWAY_EARLY = frozenset({"editor.check"})


def turn_away_early():
    """A request hook (after sign-in, before the CSRF check reads the form): 429 at once for
    the live check when it could not run now."""
    from flask import jsonify, request

    from .auth import current_user
    from .state import state

    user = current_user()
    if request.endpoint not in TURNED_AWAY_EARLY or user is None:
        return None
    busy = state().workload.refusal(user.name)
    if busy is None:
        return None
    return jsonify(busy=True, message=busy.message), 429, {"Retry-After": str(busy.retry_after)}


def heavy_work(wait: bool = False) -> contextlib.AbstractContextManager[None]:
    """A slot of the app's :class:`Workload` for the person asking (by name, or by address
    before signing in). ``wait``: a page waits up to ``STORYKIT_HEAVY_WAIT`` seconds; the
    live check does not (the editor's script asks again)."""
    from flask import current_app

    from .auth import client_ip, current_user
    from .state import state

    user = current_user()
    seconds = float(current_app.config["STORYKIT_HEAVY_WAIT"]) if wait else 0.0
    return state().workload.slot(user.name if user else client_ip(), seconds)


class Busy(Exception):  # noqa: N818 - it reads as what it says
    """No room for this work now; ``retry_after`` says in how many seconds to try again."""

    def __init__(self, retry_after: int, message: str):
        super().__init__(message)
        self.retry_after = retry_after
        self.message = message


class Workload:
    """The slots, the waiting line and each person's budget (thread-safe, one per app)."""

    def __init__(self, slots: int = 2, queue: int = 2, budget: float = 20.0,
                 clock: Callable[[], float] = time.monotonic):
        self.slots, self.queue, self.budget, self.clock = slots, queue, budget, clock
        self._free = threading.Condition()
        self._running = 0
        self._waiting = 0
        self._busy_people: set[str] = set()
        self._spent: dict[str, deque[tuple[float, float]]] = {}

    @contextlib.contextmanager
    def slot(self, who: str, wait: float = 0.0) -> Iterator[None]:
        """Run the ``with`` block in a slot for ``who``, or raise :class:`Busy`. ``wait``:
        seconds to wait for a slot (0: none; the editor's script simply asks again)."""
        self._take(who, wait)
        started = self.clock()
        try:
            yield
        finally:
            self._give_back(who, self.clock() - started)

    def refusal(self, who: str) -> Busy | None:
        """Why ``who`` would be turned away now without waiting (None: there is room). Only a
        glance: the slot is not taken."""
        with self._free:
            return self._spent_too_much(who) or (None if self._room_for(who)
                                                 else self._busy(who))

    def _take(self, who: str, wait: float) -> None:
        with self._free:
            spent = self._spent_too_much(who)
            if spent:
                raise spent
            if not self._room_for(who):
                if wait <= 0 or self._waiting >= self.queue:
                    raise self._busy(who)
                self._waiting += 1
                try:
                    ready = self._free.wait_for(lambda: self._room_for(who), timeout=wait)
                finally:
                    self._waiting -= 1
                if not ready:
                    raise self._busy(who)
            self._running += 1
            self._busy_people.add(who)

    def _spent_too_much(self, who: str) -> Busy | None:
        over = self._over_budget(who)
        if not over:
            return None
        return Busy(over, "You have asked for a lot of checks in the last minute. They will "
                          f"run again in about {over} seconds; your text is kept.")

    def _room_for(self, who: str) -> bool:
        return self._running < self.slots and who not in self._busy_people

    def _busy(self, who: str) -> Busy:
        if who in self._busy_people:
            return Busy(1, "Your last check is still running. This one will run in a moment; "
                           "your text is kept.")
        return Busy(2, "Many people are checking stories right now. Your checks will run "
                       "again in a moment; your text is kept.")

    def _give_back(self, who: str, took: float) -> None:
        with self._free:
            self._running -= 1
            self._busy_people.discard(who)
            self._spent.setdefault(who, deque()).append((self.clock(), took))
            self._free.notify_all()

    def _over_budget(self, who: str) -> int:
        """Seconds until ``who``'s work of the last minute fits the budget again (0: now)."""
        spent = self._spent.get(who)
        if not spent:
            return 0
        now = self.clock()
        while spent and spent[0][0] <= now - WINDOW:
            spent.popleft()
        if not spent:
            del self._spent[who]
            return 0
        total = sum(took for _at, took in spent)
        if total < self.budget:
            return 0
        for at, took in spent:  # the moment enough old work has left the window
            total -= took
            if total < self.budget:
                return max(1, math.ceil(at + WINDOW - now))
        return math.ceil(WINDOW)  # pragma: no cover - the loop always returns
