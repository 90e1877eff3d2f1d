"""story.md and consent.yml: strict parsing with file and line, and lossless round trips."""

from __future__ import annotations

import datetime as dt
import difflib

import pytest
import yaml
from conftest import consent_version, story_front, story_text, write_story
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storykit import model as m
from storykit.errors import ValidationError
from storykit.site import Site
from storykit.storyfile import (
    MAX_FRONT_MATTER,
    append_consent_text,
    dump_consent,
    dump_story,
    parse_consent,
    parse_story,
)

USES = tuple(m.DEFAULT_USES)

# A minimal story.md; line numbers below refer to this layout.
STORY_LINES = [
    "---",                      # 1
    "title: Night feeds",       # 2
    "slug: night-feeds",        # 3
    "status: approved",         # 4
    "storyteller:",             # 5
    "  name: Aisha Rahman",     # 6
    "  role: patient",          # 7
]


def story_md(*extra: str, replace: dict[int, str | None] | None = None, body: str = "Body.\n") -> str:
    lines = list(STORY_LINES)
    for number, new in sorted((replace or {}).items(), reverse=True):
        if new is None:
            del lines[number - 1]
        else:
            lines[number - 1] = new
    return "\n".join(lines + list(extra) + ["---", body])


# A minimal consent.yml; line numbers below refer to this layout.
CONSENT_LINES = [
    "versions:",                                  # 1
    "  - version: 1",                             # 2
    "    recorded: 2026-09-02T14:10:00Z",         # 3
    "    status: active",                         # 4
    "    given_by: self",                         # 5
    "    method: written",                        # 6
    "    granted: 2026-09-02",                    # 7
    "    expires: 2029-09-02",                    # 8
    "    uses: [board, staff_training]",          # 9
    "    media: [text, quotes]",                  # 10
    "    identification: pseudonym",              # 11
    "    signoff_required: true",                 # 12
]


def consent_yml(*extra: str, replace: dict[int, str | None] | None = None) -> str:
    lines = list(CONSENT_LINES)
    for number, new in sorted((replace or {}).items(), reverse=True):
        if new is None:
            del lines[number - 1]
        else:
            lines[number - 1] = new
    return "\n".join(lines + list(extra)) + "\n"


def story_errors(text: str | bytes, file: str = "stories/st-abc/story.md") -> ValidationError:
    data = text.encode("utf-8") if isinstance(text, str) else text
    with pytest.raises(ValidationError) as info:
        parse_story(data, file, "st-abc")
    return info.value


def consent_errors(text: str | bytes, file: str = "stories/st-abc/consent.yml",
                   uses: tuple[str, ...] = USES) -> ValidationError:
    data = text.encode("utf-8") if isinstance(text, str) else text
    with pytest.raises(ValidationError) as info:
        parse_consent(data, file, uses)
    return info.value


def assert_problem(error: ValidationError, line: int | None, *fragments: str) -> None:
    for problem in error.problems:
        if problem.line == line and all(f in problem.message for f in fragments):
            assert problem.file.endswith(("story.md", "consent.yml"))
            # the message the user sees starts with file:line
            where = problem.file if line is None else f"{problem.file}:{line}"
            assert f"{where}: " in str(error)
            return
    pytest.fail(f"no problem at line {line} mentioning {fragments}; got:\n{error}")


# --- story.md: every kind of mistake names file and line --------------------------------------

STORY_CASES = [
    pytest.param(story_md("title: Again"), 8, ["duplicate key 'title'"], id="duplicate-key"),
    pytest.param(story_md(replace={6: "  name: A", 7: "  name: B"}), 7, ["duplicate key 'name'"],
                 id="duplicate-nested-key"),
    pytest.param(story_md("consent: yes"), 8, ["unknown field 'consent'"], id="consent-yes"),
    pytest.param(story_md("titel: x"), 8, ["unknown field 'titel'", "did you mean 'title'"],
                 id="misspelt-field"),
    pytest.param(story_md("service: yes"), 8, ["'yes' is ambiguous"], id="yes-for-word"),
    pytest.param(story_md("service: no"), 8, ["'no' is ambiguous"], id="no-for-word"),
    pytest.param(story_md("service: on"), 8, ["'on' is ambiguous"], id="on-for-word"),
    pytest.param(story_md("service: Off"), 8, ["'Off' is ambiguous"], id="Off-for-word"),
    pytest.param(story_md("tags: [kindness, yes]"), 8, ["'yes' is ambiguous"], id="yes-in-list"),
    pytest.param(story_md(replace={4: "status: yes"}), 4, ["'yes' is not a valid story status"],
                 id="status-yes"),
    pytest.param(story_md(replace={4: "status: publish"}), 4,
                 ["not a valid story status", "Did you mean 'published'"], id="unknown-status"),
    pytest.param(story_md(replace={4: "status: Approved"}), 4, ["not a valid story status"],
                 id="status-wrong-case"),
    pytest.param(story_md(replace={7: "  role: nurse"}), 7, ["not a valid storyteller role"],
                 id="unknown-role"),
    pytest.param(story_md(replace={2: "title: [a, b]"}), 2, ["title should be text"],
                 id="title-is-list"),
    pytest.param(story_md("tags: infant feeding"), 8, ["tags should be a list"], id="tags-not-list"),
    pytest.param(story_md(replace={5: "storyteller: Aisha", 6: None, 7: None}), 5,
                 ["storyteller should be a storyteller"], id="storyteller-not-section"),
    pytest.param(story_md("revision: two"), 8, ["revision should be a whole number"],
                 id="revision-word"),
    pytest.param(story_md("revision: 1.5"), 8, ["revision should be a whole number"],
                 id="revision-float"),
    pytest.param(story_md("revision: -1"), 8, ["revision should be a whole number"],
                 id="revision-negative"),
    pytest.param(story_md("created: 02/09/2026"), 8, ["YYYY-MM-DD"], id="date-format"),
    pytest.param(story_md("created: 2026-02-30"), 8, ["not a real date"], id="impossible-date"),
    # dates Python can hold but arithmetic on them overflows (issue 12, hardening item 4)
    pytest.param(story_md("created: 0001-01-01"), 8, ["between 1900 and 2999"], id="year-one"),
    pytest.param(story_md("updated: 9999-12-31"), 8, ["between 1900 and 2999"], id="year-9999"),
    pytest.param(story_md(replace={2: None}), 2, ["missing required field 'title'"],
                 id="missing-title"),
    pytest.param(story_md(replace={4: None}), 2, ["missing required field 'status'"],
                 id="missing-status"),
    pytest.param(story_md(replace={6: None}), 6, ["missing required field 'name' in storyteller"],
                 id="missing-storyteller-name"),
    pytest.param(story_md(replace={5: None, 6: None, 7: None}), 2,
                 ["missing required field 'storyteller'"], id="missing-storyteller"),
    pytest.param(story_md(replace={2: "title: ''"}), 2, ["title is empty"], id="empty-title"),
    pytest.param(story_md(replace={3: "slug: Night-Feeds"}), 3, ["must be written in lower-case"],
                 id="slug-upper-case"),
    pytest.param(story_md(replace={3: "slug: café"}), 3, ["may use only lower-case a-z"],
                 id="slug-accent"),
    pytest.param(story_md(replace={3: "slug: night--feeds"}), 3, ["single hyphens"],
                 id="slug-double-hyphen"),
    pytest.param(story_md("people:", "  - name: Dr Jones"), 9,
                 ["missing required field 'render_as' in people[1]"], id="person-without-render-as"),
    pytest.param(story_md("images:", "  - file: media/a.jpg", "    alt: A ward", "    kind: video"),
                 11, ["'video' is not a valid image kind"], id="image-kind"),
    pytest.param(story_md("images:", "  - file: ../../etc/passwd", "    alt: A ward"), 9,
                 ["must be a file name inside media/"], id="image-path-escape"),
    pytest.param(story_md("images:", "  - file: media/ward.jpg", "    alt: ward.jpg"), 10,
                 ["alt text must describe the image"], id="alt-is-file-name"),
    pytest.param(story_md("summary: \"never closed"), 9,
                 ["YAML syntax", "quoted scalar on line 8"], id="yaml-syntax"),
    pytest.param(story_md("extra:", "  a: &x 1", "  b: *x"), 9, ["anchors and aliases"], id="alias"),
    pytest.param(story_md("service: !!python/object/apply:os.system [ls]"), 8,
                 ["tag", "is not allowed"], id="python-tag"),
    pytest.param(story_md("service: \x07bell"), 8, ["control characters"], id="control-character"),
    pytest.param("title: x\n---\nbody\n", 1, ["must start with a line of three dashes"],
                 id="no-front-matter"),
    pytest.param("---\ntitle: x\nbody without a closing line\n", 1, ["no closing --- line"],
                 id="no-closing-line"),
    pytest.param("---\n- a\n- b\n---\nbody\n", 2, ["must be a set of 'field: value' lines"],
                 id="front-matter-is-list"),
    pytest.param("---\n---\nbody\n", 1, ["front matter is empty"], id="empty-front-matter"),
]


@pytest.mark.parametrize(("text", "line", "fragments"), STORY_CASES)
def test_story_mistakes_name_file_and_line(text, line, fragments):
    error = story_errors(text)
    assert_problem(error, line, *fragments)


def test_every_problem_in_a_story_is_reported_at_once():
    error = story_errors(story_md("service: yes", "titel: x", replace={4: "status: publish"}))
    lines = sorted(p.line for p in error.problems)
    assert lines == [4, 8, 9]


def test_nothing_is_coerced():
    """Values are never guessed: numbers and dates in text fields stay as written."""
    story = parse_story(story_md("service: 0012", "tags: [2026-01-01, 1e3, '12:30']").encode(),
                        "story.md", "st-abc")
    assert story.service == "0012"
    assert story.tags == ["2026-01-01", "1e3", "12:30"]


def test_quoted_yes_is_the_word():
    story = parse_story(story_md("service: 'yes'").encode(), "story.md", "st-abc")
    assert story.service == "yes"


def test_front_matter_over_64_kib_is_refused():
    notes = "".join(f"  - \"{'x' * 900}\"\n" for _ in range(80))  # about 72 KiB
    error = story_errors(story_md("quotes:\n" + notes.rstrip("\n")))
    assert_problem(error, 1, "larger than 64 KiB")
    assert len(notes) > MAX_FRONT_MATTER


def test_long_front_matter_made_of_many_short_lines_is_refused_as_too_large():
    tags = "".join(f"  - t{i}\n" for i in range(12_000))  # many lines, over 64 KiB
    error = story_errors(story_md("tags:\n" + tags.rstrip("\n")))
    assert_problem(error, 1, "larger than 64 KiB")


def test_front_matter_just_under_the_limit_is_accepted_as_far_as_size_goes():
    quotes = "".join(f"  - \"{'x' * 900}\"\n" for _ in range(50))  # about 45 KiB
    story = parse_story(story_md("quotes:\n" + quotes.rstrip("\n")).encode(), "story.md", "st-abc")
    assert len(story.quotes) == 50


def test_invalid_utf8_names_the_line():
    data = story_md("service: Cardiology").encode().replace(b"Cardiology", b"Cardiolog\xff")
    error = story_errors(data)
    assert_problem(error, 8, "not valid UTF-8")


def test_latin1_file_is_refused_not_misread():
    data = story_md("service: Café").encode("latin-1")
    error = story_errors(data)
    assert_problem(error, 8, "not valid UTF-8")


def test_nul_byte_names_the_line():
    data = story_md("service: Cardiology").encode().replace(b"Cardiology", b"Card\x00iology")
    error = story_errors(data)
    assert_problem(error, 8, "NUL byte")


def test_nul_byte_in_body_is_refused_too():
    data = story_md(body="line one\nline\x00two\n").encode()
    error = story_errors(data)
    assert_problem(error, 10, "NUL byte")


def test_oversized_story_file_is_refused():
    error = story_errors(story_md(body="x" * (2 * 1024 * 1024 + 10)))
    assert "larger than" in str(error)


def test_bom_and_windows_line_endings_are_accepted_and_lines_still_count():
    text = "\ufeff" + story_md("service: Maternity").replace("\n", "\r\n")
    story = parse_story(text.encode(), "story.md", "st-abc")
    assert story.service == "Maternity"
    assert "\r" not in story.body
    error = story_errors(("\ufeff" + story_md("service: yes")).replace("\n", "\r\n"))
    assert_problem(error, 8, "ambiguous")


def test_errors_through_the_store_name_the_real_file(site_root):
    folder = write_story(site_root, "st-broken", story_md("status: draft"))
    site = Site.open(site_root)
    with pytest.raises(ValidationError) as info:
        site.store.get("st-broken")
    assert f"{folder / 'story.md'}:8: duplicate key 'status'" in str(info.value)


# --- consent.yml ---------------------------------------------------------------------------

CONSENT_CASES = [
    pytest.param(consent_yml(replace={12: "    signoff_required: yes"}), 12,
                 ["signoff_required should be true or false, not 'yes'"], id="bool-yes"),
    pytest.param(consent_yml(replace={12: "    signoff_required: 1"}), 12,
                 ["should be true or false"], id="bool-number"),
    pytest.param(consent_yml("    consent: yes"), 13, ["unknown field 'consent'"], id="consent-yes"),
    pytest.param(consent_yml("    status: withdrawn"), 13, ["duplicate key 'status'"],
                 id="duplicate-key"),
    pytest.param(consent_yml(replace={9: "    uses: [board, bogus_use]"}), 9,
                 ["'bogus_use' is not a valid use"], id="unknown-use"),
    pytest.param(consent_yml(replace={9: "    uses: [board, board]"}), 9, ["listed twice"],
                 id="use-twice"),
    pytest.param(consent_yml(replace={9: "    uses: board"}), 9, ["uses should be a list"],
                 id="uses-not-list"),
    pytest.param(consent_yml(replace={10: "    media: [text, film]"}), 10,
                 ["'film' is not a valid media type"], id="unknown-media"),
    pytest.param(consent_yml(replace={11: "    identification: yes"}), 11,
                 ["'yes' is not a valid identification level"], id="identification-yes"),
    pytest.param(consent_yml(replace={5: "    given_by: parent"}), 5,
                 ["not a valid given_by value", "parent_with_pr"], id="unknown-given-by"),
    pytest.param(consent_yml(replace={4: "    status: Active"}), 4, ["not a valid consent status"],
                 id="status-wrong-case"),
    pytest.param(consent_yml("    capacity: unknown"), 13, ["not a valid capacity value"],
                 id="unknown-capacity"),
    pytest.param(consent_yml("    age_band: child"), 13, ["not a valid age band"], id="unknown-age-band"),
    pytest.param(consent_yml(replace={6: "    method: verbal"}), 6, ["not a valid consent method"],
                 id="unknown-method"),
    pytest.param(consent_yml(replace={3: "    recorded: 2026-09-02T14:10:00"}), 3,
                 ["needs a time zone"], id="recorded-no-zone"),
    pytest.param(consent_yml(replace={3: "    recorded: 2026-09-02"}), 3,
                 ["date and time"], id="recorded-date-only"),
    pytest.param(consent_yml(replace={7: "    granted: 2/9/2026"}), 7, ["YYYY-MM-DD"],
                 id="granted-format"),
    pytest.param(consent_yml(replace={8: "    expires: 9999-12-31"}), 8,
                 ["expires: use a date between 1900 and 2999"], id="expires-never"),
    pytest.param(consent_yml(replace={8: "    expires: 99999999999999999999-01-01"}), 8,
                 ["YYYY-MM-DD"], id="expires-huge-year"),
    pytest.param(consent_yml(replace={3: "    recorded: 9999-12-31T23:00:00-05:00"}), 3,
                 ["between 1900 and 2999"], id="recorded-past-9999-in-utc"),
    pytest.param(consent_yml(replace={3: "    recorded: 0001-01-01T00:00:00+14:00"}), 3,
                 ["between 1900 and 2999"], id="recorded-before-year-one-in-utc"),
    pytest.param(consent_yml(replace={3: "    recorded: 2026-09-02T14:10:00+99:00"}), 3,
                 ["not a real date and time"], id="recorded-impossible-zone"),
    pytest.param(consent_yml(replace={8: "    expires: 2026-01-01"}), 8,
                 ["expires must be after granted"], id="expires-before-granted"),
    pytest.param(consent_yml(replace={2: "  - version: 2"}), 2, ["count up from 1"],
                 id="version-numbering"),
    pytest.param(consent_yml(replace={2: "  - version: one"}), 2, ["whole number"],
                 id="version-word"),
    pytest.param(consent_yml(replace={6: None}), 2, ["missing required field 'method' in versions[1]"],
                 id="missing-method"),
    pytest.param(consent_yml(replace={12: None}), 2, ["missing required field 'signoff_required'"],
                 id="missing-signoff-required"),
    pytest.param(consent_yml(replace={4: "    status: withdrawn"}), 4,
                 ["needs a 'withdrawal:' section"], id="withdrawn-without-details"),
    pytest.param(consent_yml("    withdrawal: {requested: 2027-01-01, scope: everything}"), 13,
                 ["not a valid withdrawal scope"], id="withdrawal-scope"),
    pytest.param(consent_yml("    evidence: ../../secret.pdf"), 13, ["inside evidence/"],
                 id="evidence-escape"),
    pytest.param(consent_yml("    taken_by: {name: Jo, involved_in_care: no}"), 13,
                 ["should be true or false, not 'no'"], id="taken-by-bool"),
    pytest.param(consent_yml("    contact: {agrees_to_contact: yes}"), 13,
                 ["agrees_to_contact should be true or false, not 'yes'"], id="contact-yes"),
    pytest.param(consent_yml("    contact: {email: a@example.org}"), 13,
                 ["missing required field 'agrees_to_contact'"], id="contact-no-agreement"),
    pytest.param(consent_yml("    contact: {agrees_to_contact: true, email: not-an-email}"), 13,
                 ["does not look like an email address"], id="contact-email"),
    pytest.param(consent_yml("    contact: {agrees_to_contact: true, phone: call me}"), 13,
                 ["should be a phone number"], id="contact-phone"),
    pytest.param(consent_yml("    contact: {agrees_to_contact: true, preferred_format: braille}"),
                 13, ["'braille' is not a valid letter format", "easy_read"],
                 id="contact-format"),
    pytest.param(consent_yml("    contact: {agrees_to_contact: true, fax: 0123}"), 13,
                 ["unknown field 'fax' in contact"], id="contact-unknown"),
    pytest.param(consent_yml("    contact: {agrees_to_contact: true, address: [a, b, c, d, e, "
                             "f, g, h, i]}"), 13, ["has more than 8 items"],
                 id="contact-long-address"),
    pytest.param(consent_yml("    contact:", "      agrees_to_contact: true",
                             "      address: 12 Road, Town"), 15,
                 ["address should be a list"], id="contact-address-not-list"),
    pytest.param("version: 1\n", 1, ["unknown field 'version'"], id="no-versions-list"),
    pytest.param("versions:\n  version: 1\n", 2, ["versions should be a list"], id="versions-not-list"),
    pytest.param("- a\n", 1, ["must start with 'versions:'"], id="top-level-list"),
    pytest.param("versions: [\n", 2, ["YAML syntax"], id="yaml-syntax"),
]


@pytest.mark.parametrize(("text", "line", "fragments"), CONSENT_CASES)
def test_consent_mistakes_name_file_and_line(text, line, fragments):
    error = consent_errors(text)
    assert_problem(error, line, *fragments)


def test_empty_consent_file_is_an_error():
    error = consent_errors("")
    assert "consent.yml is empty" in str(error)


def test_consent_invalid_utf8_and_nul():
    data = consent_yml("    notes: caf\xe9").encode("latin-1")
    assert_problem(consent_errors(data), 13, "not valid UTF-8")
    data = consent_yml("    notes: a\x00b").encode()
    assert_problem(consent_errors(data), 13, "NUL byte")


def test_site_uses_are_accepted_and_others_refused():
    text = consent_yml(replace={9: "    uses: [board, ward_posters]"})
    versions = parse_consent(text.encode(), "consent.yml", USES + ("ward_posters",))
    assert versions[0].uses == ["board", "ward_posters"]
    assert_problem(consent_errors(text), 9, "'ward_posters' is not a valid use")


def test_contact_details_are_read_kept_private_in_messages_and_written_back():
    text = consent_yml("    contact:", "      agrees_to_contact: true", "      name: Sam Example",
                       "      email: sam@example.org", "      address:",
                       "        - 4 Test Row", "        - Brackenford",
                       "      preferred_format: easy_read")
    (version,) = parse_consent(text.encode(), "consent.yml", USES)
    contact = version.contact
    assert (contact.agrees_to_contact, contact.name, contact.email, contact.address,
            contact.preferred_format, contact.phone) == (
        True, "Sam Example", "sam@example.org", ["4 Test Row", "Brackenford"], "easy_read",
        None)
    assert contact.can_write
    new = m.ConsentVersion.from_dict({**version.to_dict(), "version": 2})
    again = parse_consent(append_consent_text(text, [version], new, USES).encode(),
                          "consent.yml", USES)
    assert again[1].contact == contact
    error = consent_errors(consent_yml("    contact: {agrees_to_contact: true, "
                                       "email: private.person-at-example}"))
    assert "private.person" not in str(error)  # contact details never in messages


def test_contact_details_survive_the_parse_cache():
    from storykit.cache import story_from_record, story_record

    story = m.Story.from_fields("st-abc", {"title": "T", "slug": "t", "status": "draft",
                                           "storyteller": {"name": "N", "role": "patient"}})
    version = m.ConsentVersion.from_dict({
        "version": 1, "recorded": dt.datetime(2026, 9, 2, tzinfo=dt.UTC), "status": "active",
        "given_by": "self", "method": "written", "granted": dt.date(2026, 9, 2),
        "expires": dt.date(2029, 9, 2), "uses": ["board"], "media": ["text"],
        "identification": "anonymous", "signoff_required": False,
        "contact": {"agrees_to_contact": True, "address": ["1 Lane"], "phone": "01632 960 123"}})
    story.consent = [version]
    back = story_from_record(story_record(story))
    assert back.current_consent.contact == version.contact


def test_consent_defaults_and_current_version():
    second = consent_yml().replace("versions:\n", "")
    second = second.replace("version: 1", "version: 2").replace("status: active", "status: pending")
    versions = parse_consent((consent_yml() + second).encode(), "consent.yml", USES)
    assert [v.version for v in versions] == [1, 2]
    assert versions[0].capacity == "presumed" and versions[0].age_band == "adult"
    assert versions[0].recorded == dt.datetime(2026, 9, 2, 14, 10, tzinfo=dt.UTC)


def test_recorded_time_with_offset_is_kept_as_utc():
    text = consent_yml(replace={3: "    recorded: 2026-09-02T15:10:00+01:00"})
    version = parse_consent(text.encode(), "consent.yml", USES)[0]
    assert version.recorded == dt.datetime(2026, 9, 2, 14, 10, tzinfo=dt.UTC)


# --- round trips ---------------------------------------------------------------------------

HAND_WRITTEN = """\
---
# Written by hand, in my own order.
status: approved
title: "Night feeds on the postnatal ward"
storyteller:
  role: patient
  name: "Aisha Rahman"     # private
  pseudonym: Leila
slug: night-feeds
tags: [infant feeding, night staff]
extra:
  ward: "Ward 7"
  beds: 24
people:
  - name: "Midwife Carol Pegg"
    render_as: "the night midwife"
quotes:
  - "One kind sentence is worth more than a leaflet."
speaker_notes: |
  Pause after the quote.
  Then show the outcome.
revision: 3
service:
updated: 2026-09-20
---
On our second night...

## What would have helped

The buzzer.
"""


def test_parse_save_parse_is_lossless_and_keeps_the_text():
    story = parse_story(HAND_WRITTEN.encode(), "story.md", "st-abc")
    again_text = dump_story(story, original=HAND_WRITTEN)
    assert again_text == HAND_WRITTEN
    again = parse_story(again_text.encode(), "story.md", "st-abc")
    assert again == story


def test_changing_one_field_changes_only_its_line():
    story = parse_story(HAND_WRITTEN.encode(), "story.md", "st-abc")
    story.summary = "A new summary."
    story.tags.append("communication")
    story.revision = 4
    text = dump_story(story, original=HAND_WRITTEN)
    diff = [d for d in difflib.ndiff(HAND_WRITTEN.splitlines(), text.splitlines())
            if d.startswith(("+", "-"))]
    assert sorted(diff) == sorted([
        "- tags: [infant feeding, night staff]",
        "+ tags: [infant feeding, night staff, communication]",
        "- revision: 3",
        "+ revision: 4",
        "+ summary: A new summary.",
    ])
    again = parse_story(text.encode(), "story.md", "st-abc")
    assert again.summary == "A new summary."
    assert again.tags == ["infant feeding", "night staff", "communication"]
    assert again.extra == {"ward": "Ward 7", "beds": 24}
    assert "# Written by hand, in my own order." in text
    assert "# private" in text
    keys = [line.split(":")[0] for line in text.split("---\n")[1].splitlines()
            if line and line[0].isalpha()]
    written = [k for k in keys if k != "summary"]
    assert written == ["status", "title", "storyteller", "slug", "tags", "extra", "people",
                       "quotes", "speaker_notes", "revision", "service", "updated"]


def test_in_place_edits_of_lists_are_saved():
    """Appending to a list the story was read with is a change, not a no-op."""
    story = parse_story(HAND_WRITTEN.encode(), "story.md", "st-abc")
    story.quotes.append("Press the buzzer.")
    story.extra["ward"] = "Ward 8"
    story.people[0].render_as = "a midwife"
    story.storyteller.pseudonym = "Layla"
    again = parse_story(dump_story(story, original=HAND_WRITTEN).encode(), "story.md", "st-abc")
    assert again.quotes == ["One kind sentence is worth more than a leaflet.", "Press the buzzer."]
    assert again.extra["ward"] == "Ward 8"
    assert again.people[0].render_as == "a midwife"
    assert again.storyteller.pseudonym == "Layla"


def test_removing_a_field_removes_only_that_field():
    story = parse_story(HAND_WRITTEN.encode(), "story.md", "st-abc")
    story.quotes = []
    story.speaker_notes = None
    text = dump_story(story, original=HAND_WRITTEN)
    again = parse_story(text.encode(), "story.md", "st-abc")
    assert again.quotes == [] and again.speaker_notes is None
    assert again.extra == story.extra and again.people == story.people
    assert "service:" in text  # the user's empty field stays


def test_full_story_round_trip_from_dicts():
    text = story_text(story_front(images=[{"file": "media/cot.jpg", "alt": "A cot by a bed",
                                           "kind": "photo"}], content_warning="Mentions a baby "
                                  "needing special care.", changes=["Night handover changed"],
                                  asks=["Tell people which buzzer to press"]))
    story = parse_story(text.encode(), "story.md", "st-abc")
    fresh = dump_story(story)  # written from scratch, not from the original text
    again = parse_story(fresh.encode(), "story.md", "st-abc")
    assert again == story
    assert again.fields_dict() == story.fields_dict()


def test_consent_round_trip():
    versions = [m.ConsentVersion.from_dict(consent_version()),
                m.ConsentVersion.from_dict(consent_version(
                    version=2, status="withdrawn", notes="Line one.\nLine two: yes",
                    taken_by={"name": "Jo Advocate", "role": "Officer", "involved_in_care": False},
                    withdrawal={"requested": dt.date(2027, 1, 2), "scope": "stop_future_use",
                                "reason": "no"}))]
    text = dump_consent(versions)
    again = parse_consent(text.encode(), "consent.yml", USES)
    assert [v.to_dict() for v in again] == [v.to_dict() for v in versions]


def test_appending_consent_keeps_earlier_bytes():
    # a hand-written layout: comment, items not indented, no newline at the end
    original = "# keep this comment\nversions:\n" + "\n".join(
        line[2:] for line in CONSENT_LINES[1:]) + "   # signed on paper"
    versions = parse_consent(original.encode(), "consent.yml", USES)
    new = m.ConsentVersion.from_dict({**versions[0].to_dict(), "version": 2, "status": "pending"})
    text = append_consent_text(original, versions, new, USES)
    assert text.startswith(original)
    again = parse_consent(text.encode(), "consent.yml", USES)
    assert [v.status for v in again] == ["active", "pending"]


def test_appending_an_invalid_consent_version_is_refused():
    original = consent_yml()
    versions = parse_consent(original.encode(), "consent.yml", USES)
    bad = m.ConsentVersion.from_dict({**versions[0].to_dict(), "version": 2, "uses": ["bogus"]})
    with pytest.raises(ValidationError, match="bogus"):
        append_consent_text(original, versions, bad, USES)


# --- property: any text a user can type survives a save -----------------------------------

# Anything a person can type or paste, including control characters, NEL, LS/PS and tabs
# (YAML can hold them only as escapes; the writer must notice). NUL is refused in files.
line_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\r\n"),
    min_size=1, max_size=60,
).filter(lambda s: s.strip())
any_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    max_size=200,
)
tag_text = line_text.filter(lambda s: len(s) <= 60)


def _clean(value: str) -> str:
    return value


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(title=line_text, summary=any_text, notes=any_text, service=line_text,
       tags=st.lists(tag_text, max_size=5, unique=True), quotes=st.lists(any_text, max_size=3),
       pseudonym=line_text, render_as=line_text, extra=st.dictionaries(
           st.from_regex(r"[a-z]{1,8}", fullmatch=True), st.one_of(line_text, st.integers(0, 99)),
           max_size=3))
def test_any_field_values_survive_save_and_parse(title, summary, notes, service, tags, quotes,
                                                  pseudonym, render_as, extra):
    summary, notes = _clean(summary), _clean(notes)
    quotes = [_clean(q) for q in quotes if _clean(q)]
    story = parse_story(HAND_WRITTEN.encode(), "story.md", "st-abc")
    story.title = title
    story.summary = summary or None
    story.speaker_notes = notes or None
    story.service = service
    story.tags = tags
    story.quotes = quotes
    story.extra = extra
    story.storyteller.pseudonym = pseudonym
    story.people[0].render_as = render_as
    for original in (HAND_WRITTEN, None):
        text = dump_story(story, original=original)
        again = parse_story(text.encode(), "story.md", "st-abc")
        assert again.title == title
        assert again.summary == (summary or None)
        assert again.speaker_notes == (notes or None)
        assert again.service == service
        assert again.tags == tags
        assert again.quotes == quotes
        assert again.extra == extra
        assert again.storyteller.pseudonym == pseudonym
        assert again.people[0].render_as == render_as
        assert again.body == story.body


# --- the fast resolver reads every plain scalar as PyYAML's own resolver would ---------------

scalar_text = st.one_of(
    st.from_regex(r"[-+]?(0|[1-9][0-9_]{0,6}|0[0-7_]{1,5}|0x[0-9a-fA-F_]{1,5}|0b[01_]{1,6})",
                  fullmatch=True),
    st.from_regex(r"[-+]?[0-9]{1,3}(:[0-5]?[0-9]){1,2}(\.[0-9]*)?", fullmatch=True),
    st.from_regex(r"[-+]?([0-9][0-9_]*)?\.[0-9_]*([eE][-+][0-9]+)?", fullmatch=True),
    st.from_regex(r"\d{4}-\d\d?-\d\d?([Tt ]\d\d?:\d\d:\d\d(\.\d*)?(Z|[-+]\d\d?(:\d\d)?)?)?",
                  fullmatch=True),
    st.sampled_from(["yes", "No", "ON", "off", "y", "n", "true", "False", "~", "null", "NULL",
                     "<<", "=", ".inf", "-.Inf", ".NaN", "0o17", "019", "1_000", "+12", "-0"]),
    st.text(alphabet="0123456789-+_:.eExabYNyno<=~", min_size=1, max_size=8),
)


@settings(max_examples=400, deadline=None)
@given(value=scalar_text)
def test_fast_resolver_agrees_with_pyyaml(value):
    from storykit.schema import _ALLOWED_TAGS, _STD, _import_yaml

    text = f"k: {value}\n"
    try:
        ours = yaml.compose(text, Loader=_import_yaml())
        theirs = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return
    a, b = ours.value[0][1], theirs.value[0][1]
    assert (a.tag in _ALLOWED_TAGS) == (b.tag in _ALLOWED_TAGS)
    assert (a.tag == _STD + "int") == (b.tag == _STD + "int")
    assert a.tag == b.tag or a.tag == _STD + "str"


# --- the quick way and the strict way agree ----------------------------------------------------
#
# Ordinary files are read without composing YAML nodes (storykit.schema.quick_read). The
# strictness contract rests on the strict reader; these properties check that the quick one
# only ever gives up or gives exactly the strict reader's values, on files written in many
# YAML styles and then damaged in the ways people and attackers damage them.

def _quoted(text: str) -> st.SearchStrategy[str]:
    return st.sampled_from([text, f'"{text}"', f"'{text}'"])


WORD = st.sampled_from(["Night feeds", "night-feeds", "patient", "carer", "Aisha Rahman",
                        "it's", "Leila", "photo", "2026-03-01", "Maternity", "caf\u00e9",
                        "O'Brien", "12"] * 4
                       + ["yes", "no", "on", "null", "~", "true", "a: b", "x #y", "<<", "=",
                          "-dash", "&anchor", "*alias", "!tag", "%", "@", "`"])
VALUE = WORD.flatmap(lambda w: st.sampled_from([w, w, w, f'"{w}"', f"'{w}'", f'"{w}\\n"',
                                                f'"\\u00e9{w}"', f'"{w}\\x41"']))
FLOW_LIST = st.lists(WORD, max_size=4).map(lambda ws: "[" + ", ".join(ws) + "]")
ROLE = st.sampled_from(["patient", "carer", "'carer'", '"parent"', "staff"] * 3
                       + ["yes", "nurse", "Patient", "~"])


def _story_lines(draw) -> list[str]:
    lines = [f"title: {draw(_quoted('Night feeds'))}", f"slug: {draw(_quoted('night-feeds'))}",
             f"status: {draw(st.sampled_from(['approved', 'published', 'draft'] * 3 + ['yes']))}"]
    teller = draw(st.sampled_from(["block", "flow", "pseudonym"]))
    if teller == "block":
        lines += ["storyteller:", "  name: Aisha Rahman", f"  role: {draw(ROLE)}"]
    elif teller == "flow":
        lines += ["storyteller: {name: \"Aisha Rahman\", role: " + draw(ROLE) + "}"]
    else:
        lines += ["storyteller:", "  # who told it", "  name: 'Aisha'", "  pseudonym: Leila",
                  "  role: carer"]
    for field in draw(st.lists(st.sampled_from(
            ["service", "tags", "tags_block", "summary", "quotes", "notes", "people",
             "images", "images_flow", "created", "revision", "extra", "comment", "blank",
             "changes"]), unique=True, max_size=8)):
        lines += {
            "service": [f"service: {draw(VALUE)}"],
            "tags": [f"tags: {draw(FLOW_LIST)}"],
            "tags_block": ["tags:", f"  - {draw(VALUE)}", f"  - {draw(VALUE)}"],
            "summary": [f"summary: {draw(VALUE)}"],
            "quotes": ["quotes:", f"- {draw(VALUE)}", "- \"A second quote.\""],
            "notes": ["speaker_notes: " + draw(st.sampled_from(["|", "|-"])), "  First line.",
                      "", "  Second line: with a colon # and a hash", "    indented more"],
            "people": ["people:", "  - name: Dr Amir Jones", f"    render_as: {draw(VALUE)}"],
            "images": ["images:", "  - file: media/ward.jpg", f"    alt: {draw(VALUE)}",
                       "    kind: photo"],
            "images_flow": ["images:", "  - {file: media/ward.jpg, alt: \"A ward, at night\"}"],
            "created": [f"created: {draw(st.sampled_from(['2026-01-02', '2026-02-30', VALUE_TEXT]))}"],
            "revision": [f"revision: {draw(st.sampled_from(['3', '0', '-1', '1e3', '0x1f']))}"],
            "extra": ["extra: {a: 1}"],
            "comment": ["# a comment line"],
            "blank": [""],
            "changes": [f"changes: {draw(FLOW_LIST)}"],
        }[field]
    return lines


VALUE_TEXT = "'2026-01-02'"
#: Damage: a snippet put somewhere in the text (none in half the files).
DAMAGE = st.sampled_from(
    [""] * 50 + ["", "", "\n", " ", "  ", "\t", "title: Again\n", "status: yes\n", ": ", " #", "#", "- ",
     "-", "'", '"', "[", "]", "{", "}", ",", "\\", "\\q", "&a ", "*a", "!!python/object ", "|",
     ">", "\u2028", "\x85", "\ufeff", "\x01", "~", "null", "<<: x\n", "=", "%", "@", "`",
     "    ", "\n  ", "\n- x", "\nunknown: 1\n", "yes", "2026-02-30", "T10:00:00", "Z", "+01:00",
     "x" * 250, "\u00e9", "'s"])


@st.composite
def front_matters(draw) -> str:
    lines = _story_lines(draw)
    order = draw(st.permutations(range(len(lines)))) if draw(st.booleans()) else range(len(lines))
    text = "\n".join(lines[i] for i in order) + "\n"
    damage, at = draw(DAMAGE), draw(st.integers(0, 10_000))
    at = at % (len(text) + 1)
    return text[:at] + damage + text[at:]


def _consent_lines(draw) -> list[str]:
    dash = draw(st.sampled_from(["  - ", "- "]))
    pad = " " * len(dash)
    pick = lambda *options: draw(st.sampled_from(options))  # noqa: E731
    version = [f"version: {pick('1', '2', 'one')}",
               "recorded: " + pick("2026-01-05T10:00:00Z", "2026-01-05T10:00:00",
                                   "2026-01-05 10:00:00+01:00", "2026-01-05"),
               f"status: {pick('active', 'pending', 'withdrawn', 'yes')}",
               "given_by: self", f"method: {draw(_quoted('written'))}",
               f"granted: {pick('2026-01-01', '2026-13-01', '2026-1-1')}",
               "expires: 2028-01-01",
               "uses: " + pick("[board, public_website]", "[board, board]", "[]", "[press]"),
               "media: [text, quotes]",
               f"identification: {pick('pseudonym', 'anonymous', 'anon')}",
               "signoff_required: " + pick("false", "true", "no", "False", '"false"')]
    extras = draw(st.lists(st.sampled_from(
        ["taken_by: {name: Bench Advocate, role: \"Nurse\", involved_in_care: false}",
         "taken_by:\n      name: Bo\n      involved_in_care: yes",
         "withdrawal: {requested: 2026-12-01, scope: stop_future_use, reason: \"Moved away\"}",
         "notes: |\n      A note\n      over two lines.", "evidence: evidence/form.pdf",
         "contact:\n      agrees_to_contact: true\n      email: bench@example.org\n"
         "      address:\n        - 1 Test Lane\n        - BF1 1AA\n"
         "      preferred_format: large_print",
         "contact: {agrees_to_contact: false, phone: \"01632 960 123\"}",
         "contact: {agrees_to_contact: yes, email: bench}",
         "age_band: 13_15", "reconsent_due: 2027-06-01", "signed_off_revision: 2",
         "capacity: presumed", "recorded_by: bench.advocate"]), unique=True, max_size=4))
    version += [e.replace("\n      ", "\n" + pad + "  ") for e in extras]
    return ["versions:"] + [dash + version[0]] + [pad + line for line in version[1:]]


@st.composite
def consent_files(draw) -> str:
    text = "\n".join(_consent_lines(draw)) + "\n"
    damage, at = draw(DAMAGE), draw(st.integers(0, 10_000))
    at = at % (len(text) + 1)
    return text[:at] + damage + text[at:]


def _strictly(text: str, schema):
    from storykit.schema import Reader

    reader = Reader("f", 1)
    values = reader.read(reader.compose(text), schema)
    return values, reader.problems


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(front_matters())
def test_the_quick_reader_never_accepts_what_the_strict_one_refuses(text):
    """On front matter in many YAML styles, damaged anywhere: the quick reader gives up or
    gives exactly the strict reader's values, and never accepts a file with a problem."""
    from storykit.schema import quick_read
    from storykit.storyfile import STORY_SCHEMA

    quick = quick_read(text, STORY_SCHEMA)
    if quick is not None:
        values, problems = _strictly(text, STORY_SCHEMA)
        assert problems == [] and quick == values
        assert [type(v) for v in quick.values()] == [type(v) for v in values.values()]


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(consent_files())
def test_the_quick_reader_agrees_on_consent_files(text):
    from storykit.schema import quick_read
    from storykit.storyfile import consent_schema

    schema = consent_schema(USES)
    quick = quick_read(text, schema)
    if quick is not None:
        values, problems = _strictly(text, schema)
        assert problems == [] and quick == values


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(front_matters(), st.sampled_from(["Body.\n", "", "## A heading\n\nText.\n"]))
def test_a_story_read_the_quick_way_is_the_story_read_the_strict_way(front, body):
    """Whole files: the same Story (every field, the fields as read included), or the same
    problems with the same lines."""
    from storykit.storyfile import decode, parse_story_strictly, split_front_matter

    data = ("---\n" + front + "---\n" + body).encode("utf-8")
    try:
        text = decode(data, "story.md", 10**7)
        front_text, body_text = split_front_matter(text, "story.md")
    except ValidationError:
        return
    try:
        strict = parse_story_strictly(text, front_text, body_text, "story.md", "st-prop01", data)
    except ValidationError as exc:
        with pytest.raises(ValidationError) as quick_error:
            parse_story(data, "story.md", "st-prop01")
        assert quick_error.value.problems == exc.problems
        return
    quick = parse_story(data, "story.md", "st-prop01")
    assert quick == strict and quick.source_fields == strict.source_fields
    assert quick.etag == strict.etag


def test_the_quick_reader_reads_ordinary_files_and_leaves_the_rest():
    """It is used for the files storykit and people usually write, and gives up on YAML it
    does not know (anchors, tags, folded text, multi-line plain text...)."""
    from storykit.schema import quick_read
    from storykit.storyfile import STORY_SCHEMA

    ordinary = ("title: \"Night feeds\"\nslug: night-feeds\nstatus: published\n"
                "storyteller: {name: \"Aisha Rahman\", pseudonym: Leila, role: patient}\n"
                "tags: [night staff, kindness]\nquotes:\n  - \"It's fine.\"\n"
                "speaker_notes: |\n  Two\n  lines\ncreated: 2026-01-02\nrevision: 3\n")
    assert quick_read(ordinary, STORY_SCHEMA)["speaker_notes"] == "Two\nlines\n"
    for unusual in ("summary: &a text\n", "summary: !!str text\n", "summary: >\n  folded\n",
                    "summary: two\n  lines\n", "status: yes\n", "title: Again\n",
                    "tags: [a, [b]]\n", "summary: ~\n"):
        assert quick_read(ordinary + unusual, STORY_SCHEMA) is None, unusual


# --- the quick way on the bad-input catalogue and on the benchmark's stories ----------------------

def _problems(parse) -> list[tuple]:
    try:
        parse()
    except ValidationError as exc:
        return [(p.file, p.line, p.message, p.code) for p in exc.problems]
    return []


def _warm_the_quick_way() -> None:
    """Read valid files first, so the values the quick reader keeps between files (short
    values, dates) are there when the bad file is read, as in a real load."""
    parse_story(story_text().encode(), "story.md", "st-warm01")
    parse_consent(consent_yml().encode(), "consent.yml", tuple(m.DEFAULT_USES))


@pytest.mark.parametrize("warm", [False, True], ids=["cold", "warm"])
@pytest.mark.parametrize(("text", "line", "fragments"), STORY_CASES)
def test_every_bad_story_gets_the_careful_readers_problems_exactly(text, line, fragments, warm):
    """parse_story tries the quick way first; for every kind of bad file its result is
    exactly what the careful node-by-node reader reports: the same problems, lines and
    words, in the same order."""
    from storykit.storyfile import decode, parse_story_strictly, split_front_matter

    if warm:
        _warm_the_quick_way()
    data = text.encode("utf-8")
    quick = _problems(lambda: parse_story(data, "story.md", "st-test01"))

    def strictly():
        whole = decode(data, "story.md", 2 * 1024 * 1024)
        front, body = split_front_matter(whole, "story.md")
        return parse_story_strictly(whole, front, body, "story.md", "st-test01", data)

    assert quick and quick == _problems(strictly)


@pytest.mark.parametrize("warm", [False, True], ids=["cold", "warm"])
@pytest.mark.parametrize(("text", "line", "fragments"), CONSENT_CASES)
def test_every_bad_consent_file_gets_the_careful_readers_problems_exactly(text, line, fragments,
                                                                          warm):
    from storykit.storyfile import decode, parse_consent_strictly

    if warm:
        _warm_the_quick_way()
    data, uses = text.encode("utf-8"), tuple(m.DEFAULT_USES)
    quick = _problems(lambda: parse_consent(data, "consent.yml", uses))
    strict = _problems(lambda: parse_consent_strictly(decode(data, "consent.yml", 10**6),
                                                      "consent.yml", uses))
    assert quick and quick == strict


def test_the_benchmarks_stories_are_read_the_quick_way_and_the_same_as_the_careful_way():
    """bench/bench_load.py's generated stories (the files the speed figures are measured
    on) are ordinary files: the quick reader takes every one of them, and what it gives is
    exactly what the careful reader gives."""
    import random
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent.parent / "bench"))
    import bench_load

    from storykit.schema import quick_read
    from storykit.storyfile import (
        STORY_SCHEMA,
        consent_schema,
        decode,
        parse_consent_strictly,
        parse_story_strictly,
        split_front_matter,
    )

    rng, uses = random.Random(11), tuple(m.DEFAULT_USES)
    for n in range(150):
        text, revision = bench_load.story_md(rng, n)
        data = text.encode()
        front, body = split_front_matter(decode(data, "story.md", 10**7), "story.md")
        assert quick_read(front, STORY_SCHEMA) is not None, text
        quick = parse_story(data, "story.md", f"st-b{n:06d}")
        strict = parse_story_strictly(text, front, body, "story.md", f"st-b{n:06d}", data)
        assert quick == strict and quick.source_fields == strict.source_fields
        consent = bench_load.consent_yml(rng, int(revision))
        assert quick_read(consent, consent_schema(uses)) is not None, consent
        assert parse_consent(consent.encode(), "consent.yml", uses) == \
            parse_consent_strictly(consent, "consent.yml", uses)
