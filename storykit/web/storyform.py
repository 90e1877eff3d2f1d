"""The story editor's form: a story's fields as form values, and a posted form back as a story.

Lists are typed as text: tags separated by commas, pull quotes separated by a blank line, and
"what we are changing" / "what we ask" one per line. People named in the story are rows of
two fields (``people-0-name``, ``people-0-render_as``). Everything posted is normalised
(Windows line endings, invisible control characters) and checked against the same limits as
story.md, so a save is refused here with a message by the field, not by the file parser.

:func:`read_story` also keeps where each list item starts in its text box
(:attr:`StoryForm.offsets`), so a privacy finding in "quote 2" can be fixed in the
``quotes`` box by the editor's script.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from werkzeug.datastructures import MultiDict

from ..markup import MAX_MARKDOWN, MarkdownTooLong, check_complexity
from ..model import ROLES, Person, Story, Storyteller
from .forms import Form

PEOPLE_ROWS_MAX = 100
BLANK_PEOPLE_ROWS = 2
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f]")
_BLANK_LINE = re.compile(r"\n[ \t]*\n")
_PERSON_KEY = re.compile(r"^people-(\d{1,3})-(name|render_as)\Z")
#: (field, label, longest, one line only)
TEXT_LIMITS = (
    ("title", "The title", 200, True),
    ("service", "The service", 200, True),
    ("summary", "The summary", 1000, False),
    ("content_warning", "The content warning", 500, False),
    ("speaker_notes", "The speaker notes", 20_000, False),
    ("teller_name", "The storyteller's name", 200, True),
    ("teller_pseudonym", "The made-up name", 200, True),
)
#: list field -> (label of one item, separator word, longest item, most items)
LISTS = {
    "quotes": ("quote", "blank line", 1000, 50),
    "changes": ("change", "line", 1000, 30),
    "asks": ("ask", "line", 1000, 30),
}
ROLE_LABELS = {"patient": "A patient", "carer": "A carer", "parent": "A parent",
               "relative": "A relative", "staff": "A member of staff", "other": "Someone else"}


@dataclass
class StoryForm:
    """A posted editor form: its values and errors, the story it makes (None when there are
    errors), and where list items start in their boxes."""

    form: Form
    story: Story | None
    offsets: dict[str, tuple[str, int]] = field(default_factory=dict)
    people_rows: int = 0


def clean(text: str) -> str:
    """Line endings as LF and no invisible control characters (tabs and newlines stay)."""
    return _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def values_of(story: Story) -> MultiDict:
    """The form's values for ``story`` as saved."""
    data = MultiDict({
        "title": story.title, "summary": story.summary or "", "body": story.body,
        "service": story.service or "", "tags": ", ".join(story.tags),
        "content_warning": story.content_warning or "",
        "quotes": "\n\n".join(story.quotes), "changes": "\n".join(story.changes),
        "asks": "\n".join(story.asks), "speaker_notes": story.speaker_notes or "",
        "teller_name": story.storyteller.name, "teller_pseudonym": story.storyteller.pseudonym or "",
        "teller_role": story.storyteller.role,
    })
    for i, person in enumerate(story.people):
        data[f"people-{i}-name"] = person.name
        data[f"people-{i}-render_as"] = person.render_as
    return data


def people_row_count(form: Form) -> int:
    """How many people rows the form shows: those filled in, plus two blank ones."""
    filled = [int(m.group(1)) for key in form.data if (m := _PERSON_KEY.match(key))
              and form.get(key)]
    return min(PEOPLE_ROWS_MAX, (max(filled) + 1 if filled else 0) + BLANK_PEOPLE_ROWS)


def read_story(data: MultiDict, base: Story) -> StoryForm:
    """The story ``base`` with the posted editor fields; errors are keyed by field id."""
    values = MultiDict([(k, clean(v)) for k, v in data.items(multi=True)])
    form = Form(values)
    for name, label, limit, one_line in TEXT_LIMITS:
        _check_text(form, name, label, limit, one_line)
    title = form.require("title", "Enter a title for the story.")
    teller = form.require("teller_name", "Enter the storyteller's name. Only people working "
                                         "on the story see it.")
    role = form.get("teller_role")
    if role not in ROLES:
        form.error("teller_role", "Choose who is telling the story.")
    body = _body(form)
    tags = _tags(form)
    lists, offsets = {}, {}
    for name in LISTS:
        lists[name], found = _items(form, name)
        offsets.update(found)
    people = _people(form)
    result = StoryForm(form, None, offsets, people_row_count(form))
    if form.ok:
        texts = {"summary": form.get("summary") or None, "body": body,
                 "content_warning": form.get("content_warning") or None,
                 "speaker_notes": _multiline(form.raw("speaker_notes")) or None}
        result.story = base.copy(
            title=title, service=form.get("service") or None, tags=tags,
            storyteller=Storyteller(name=teller, role=role,
                                    pseudonym=form.get("teller_pseudonym") or None),
            people=people, **lists,
            **{name: _kept(getattr(base, name), value) for name, value in texts.items()})
    return result


def _kept(saved: str | None, posted: str | None) -> str | None:
    """The saved text when the form only differs from it in spaces at either end (a text box
    loses a final line break), so opening and saving a story changes nothing."""
    if (saved or "").strip() == (posted or "").strip():
        return saved
    return posted


def _check_text(form: Form, name: str, label: str, limit: int, one_line: bool) -> None:
    value = form.get(name)
    if one_line and "\n" in value:
        form.error(name, f"{label} must be on one line.")
    elif len(value) > limit:
        form.error(name, f"{label} must be {limit:,} characters or fewer. It is {len(value):,}.")


def _multiline(text: str) -> str:
    text = text.strip("\n")
    return text + "\n" if "\n" in text else text.strip()


def _body(form: Form) -> str:
    body = form.raw("body").rstrip()
    body = body + "\n" if body else ""
    if len(body) > MAX_MARKDOWN:
        form.error("body", f"The story must be {MAX_MARKDOWN:,} characters or fewer. It is "
                           f"{len(body):,}. Split it into two stories.")
        return body
    try:
        check_complexity(body)
    except MarkdownTooLong as exc:
        form.error("body", f"The story cannot be shown as it is: {exc}.")
    return body


def _tags(form: Form) -> list[str]:
    tags: list[str] = []
    for raw in form.get("tags").split(","):
        tag = " ".join(raw.split())
        if tag and tag.casefold() not in {t.casefold() for t in tags}:
            tags.append(tag)
    if any(len(t) > 60 for t in tags):
        form.error("tags", "Each tag must be 60 characters or fewer.")
    elif len(tags) > 30:
        form.error("tags", "Use 30 tags or fewer.")
    return tags


def _items(form: Form, name: str) -> tuple[list[str], dict[str, tuple[str, int]]]:
    """Items of a list box and where each starts in the box (for fixing them in place)."""
    label, separator, longest, most = LISTS[name]
    text = form.raw(name)
    splitter = _BLANK_LINE if separator == "blank line" else re.compile("\n")
    items: list[str] = []
    offsets: dict[str, tuple[str, int]] = {}
    start = 0
    for match in [*splitter.finditer(text), None]:
        end = match.start() if match else len(text)
        chunk = text[start:end]
        item = chunk.strip()
        if item:
            offsets[f"{name}[{len(items)}]"] = (name, start + len(chunk) - len(chunk.lstrip()))
            items.append(item)
        start = match.end() if match else end
    if len(items) > most:
        form.error(name, f"Use {most} {label}s or fewer.")
    elif any(len(i) > longest for i in items):
        form.error(name, f"Each {label} must be {longest:,} characters or fewer.")
    return items, offsets


def _people(form: Form) -> list[Person]:
    people = []
    indexes = sorted({int(m.group(1)) for key in form.data if (m := _PERSON_KEY.match(key))})
    for i in indexes[:PEOPLE_ROWS_MAX]:
        name = " ".join(form.get(f"people-{i}-name").split())
        shown = " ".join(form.get(f"people-{i}-render_as").split())
        if not name and not shown:
            continue
        if not name:
            form.error(f"people-{i}-name", "Enter the name as it is written in the story.")
        elif not shown:
            form.error(f"people-{i}-render_as", "Say how to show this person instead, for "
                                                "example \u201cthe night nurse\u201d.")
        elif len(name) > 200 or len(shown) > 200:
            form.error(f"people-{i}-name", "Names must be 200 characters or fewer.")
        else:
            people.append(Person(name=name, render_as=shown))
    if len(indexes) > PEOPLE_ROWS_MAX:
        form.error("people-0-name", f"List {PEOPLE_ROWS_MAX} people or fewer.")
    return people

