"""A small form helper: submitted values plus error messages keyed by field name.

Templates show it with the macros in ``templates/macros.html``: ``error_summary(form)`` at the
top of the page (links to each field) and one macro per field, which adds the label, hint and
error text and the ``aria-describedby`` that ties them together. Passwords are never echoed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from werkzeug.datastructures import MultiDict


class Form:
    def __init__(self, data: Mapping[str, Any] | MultiDict | None = None):
        self.data: MultiDict = data if isinstance(data, MultiDict) else MultiDict(data or {})
        self.errors: dict[str, str] = {}

    def get(self, name: str, default: str = "") -> str:
        """The submitted text, with surrounding spaces removed."""
        return str(self.data.get(name, default)).strip()

    def raw(self, name: str) -> str:
        """The submitted text exactly as sent (for passwords)."""
        return str(self.data.get(name, ""))

    def getlist(self, name: str) -> list[str]:
        return [str(v) for v in self.data.getlist(name)]

    def error(self, name: str, message: str) -> None:
        """Record the first problem with field ``name``."""
        self.errors.setdefault(name, message)

    def require(self, name: str, message: str) -> str:
        value = self.get(name)
        if not value:
            self.error(name, message)
        return value

    @property
    def ok(self) -> bool:
        return not self.errors


def check_new_password(form: Form, field: str, confirm: str, user_name: str) -> None:
    """Check a new password (the rules in storykit.web.passwords) and its confirmation."""
    from .passwords import password_problem

    password = form.raw(field)
    problem = password_problem(password, user_name)
    if problem:
        form.error(field, problem)
    elif form.raw(confirm) != password:
        form.error(confirm, "The two passwords are not the same. Type the password again.")
