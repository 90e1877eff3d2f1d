"""Ids and slugs: generated ids, NFKC slugs, and no two stories ever sharing one."""

from __future__ import annotations

import pytest
from conftest import story_front, write_story
from hypothesis import given, settings
from hypothesis import strategies as st

from storykit.errors import ConflictError, ValidationError
from storykit.site import Site
from storykit.slugs import ID_RE, is_valid_id, new_id, normalise, slug_key, slug_problem, slugify


def test_new_ids_are_valid_and_distinct():
    ids = {new_id() for _ in range(2000)}
    assert len(ids) == 2000
    assert all(ID_RE.match(i) and is_valid_id(i) for i in ids)


@pytest.mark.parametrize(("value", "valid"), [
    ("st-7k2m9q", True), ("abc", True), ("a" * 64, True), ("0ab", True),
    ("ab", False), ("a" * 65, False), ("-abc", False), ("St-abc", False), ("st_abc", False),
    ("st-abc/..", False), ("../st-abc", False), ("st abc", False), ("", False),
    ("ｓｔ-abc", False), ("st-abc\n", False),
])
def test_id_rule(value, valid):
    assert is_valid_id(value) is valid


@pytest.mark.parametrize(("text", "normal"), [
    ("ＡＢＣ", "abc"),                    # full-width
    ("a\u200bbc", "abc"),                 # zero-width space
    ("a\u200c\u200dbc", "abc"),           # zero-width (non-)joiner
    ("\u2060abc\ufeff", "abc"),           # word joiner, BOM
    ("\u202eabc\u202c", "abc"),           # right-to-left override
    ("\u2067abc\u2069", "abc"),           # bidi isolates
    ("\u200eabc\u200f", "abc"),           # LRM / RLM
    ("a\u00adbc", "abc"),                 # soft hyphen
    ("ﬁle", "file"),                      # ligature
    ("Café", "café"),                     # accents stay in normalise(), go in slugify()
])
def test_normalise(text, normal):
    assert normalise(text) == normal


@pytest.mark.parametrize(("title", "slug"), [
    ("Night feeds on the postnatal ward", "night-feeds-on-the-postnatal-ward"),
    ("Café society", "cafe-society"),
    ("Cafe\u0301 society", "cafe-society"),    # decomposed accent
    ("Crème brûlée", "creme-brulee"),
    ("It's my story", "its-my-story"),
    ("It\u2019s my story", "its-my-story"),
    ("ＡＢＣ", "abc"),
    ("A&E: 4 hours, then 12!", "a-e-4-hours-then-12"),
    ("  --Spaces--  ", "spaces"),
    ("Straße", "strasse"),
    ("Søren and Æsa", "soren-and-aesa"),
    ("Œuvre", "oeuvre"),
    ("Łódź", "lodz"),
    ("\u202eevil\u202c title", "evil-title"),
    ("x" * 70, "x" * 64),
    ("word " * 20, "word-word-word-word-word-word-word-word-word-word-word-word-word"),
    ("🙂🙂", ""),
])
def test_slugify(title, slug):
    assert slugify(title) == slug
    assert slug == "" or slug_problem(slug) is None


@pytest.mark.parametrize(("slug", "problem"), [
    ("night-feeds", None),
    ("a", None),
    ("night-feeds-2", None),
    ("", "empty"),
    ("Night-Feeds", "lower-case"),
    ("ＡＢＣ", "lower-case"),
    ("a\u200bbc", "lower-case"),
    ("café", "may use only"),
    ("night feeds", "may use only"),
    ("night--feeds", "single hyphens"),
    ("-night", "single hyphens"),
    ("night-", "single hyphens"),
    ("night_feeds", "may use only"),
    ("../etc", "may use only"),
    ("x" * 65, "longer than 64"),
])
def test_slug_rules(slug, problem):
    found = slug_problem(slug)
    if problem is None:
        assert found is None
    else:
        assert problem in found


def test_slug_keys_compare_lookalikes_equal():
    assert len({slug_key(s) for s in ("abc", "ＡＢＣ", "a\u200bbc", "\u202eabc", "ABC")}) == 1
    assert slug_key("café") == slug_key("cafe")


# --- in the store: a lookalike slug never reaches another story ---------------------------------

@pytest.mark.parametrize("lookalike", [
    "abc", "ＡＢＣ", "ABC", "a\u200bbc", "\u202eabc", "a\u00adbc", "abc\u200d", " abc ",
])
def test_a_lookalike_slug_is_refused_and_the_first_story_untouched(site, lookalike):
    first = site.store.create("First", slug="abc")
    before = first.path.read_bytes()
    with pytest.raises(ConflictError, match="already used by story " + first.id):
        site.store.create("Second", slug=lookalike)
    assert first.path.read_bytes() == before
    assert [s.id for s in site.store.load_all().stories] == [first.id]
    assert site.store.find(lookalike).id == first.id


def test_accented_and_plain_titles_share_a_slug_so_the_second_is_refused(site):
    first = site.store.create("Café")
    assert first.slug == "cafe"
    for title in ("Cafe", "CAFÉ", "Cafe\u0301", "ＣＡＦＥ"):
        with pytest.raises(ConflictError):
            site.store.create(title)
    with pytest.raises(ValidationError, match="may use only lower-case"):
        site.store.create("Another", slug="café")
    assert len(site.store.load_all().stories) == 1


def test_hand_written_lookalike_slugs_are_errors_not_overwrites(site_root):
    write_story(site_root, "st-first1", story_front(slug="abc"))
    write_story(site_root, "st-second", story_front(slug="ＡＢＣ"))
    write_story(site_root, "st-third1", story_front(slug="a\u200bbc"))
    write_story(site_root, "st-fourth", story_front(slug="abc"))
    loaded = Site.open(site_root).store.load_all()
    messages = "\n".join(str(p) for p in loaded.problems)
    assert "st-second/story.md:3: the slug 'ＡＢＣ' must be written in lower-case" in messages
    assert "st-third1/story.md:3:" in messages
    assert "st-fourth/story.md: slug 'abc' is also used by story st-first1" in messages
    assert Site.open(site_root).store.find("abc").id == "st-first1"


@settings(max_examples=300, deadline=None)
@given(st.from_regex(r"[a-z0-9]{1,10}(-[a-z0-9]{1,10}){0,6}", fullmatch=True).filter(
    lambda s: len(s) <= 64))
def test_a_valid_slug_is_its_own_slugified_key(slug):
    assert slug_problem(slug) is None
    assert slugify(slug) == slug and slug_key(slug) == slug


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=70))
def test_slugify_always_makes_a_valid_slug_or_nothing(text):
    slug = slugify(text)
    assert slug == "" or slug_problem(slug) is None
    assert slug_key(text) == slug
