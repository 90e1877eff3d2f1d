"""Letters to storytellers (storykit.letters and the storykit_letters plugin): tagged PDFs in
standard print, large print (nothing under 16pt) and Easy Read (sentences of at most 15
words, a described picture beside each idea), made from the consent record's private contact
details; the re-consent letter and the withdrawal confirmation made from the distribution
log; and every command around them, with what happens when its input is wrong."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
from conftest import ON, consent_version, story_front, write_story
from pack_support import CONTACT, USE, cli, mixed, write_mixed  # noqa: F401 - fixtures
from pdfcheck import catalog, read, structure
from pypdf import PdfReader

from storykit import audit
from storykit.letters import (
    EASY_READ_MAX_WORDS,
    ICONS,
    EasyReadPoint,
    Letter,
    LetterError,
    easy,
    easy_read_problems,
    reconsent_letter,
    sentences,
    withdrawal_letter,
    word_count,
    write_letter,
)
from storykit.packs import PackDefinition, build_pack
from storykit.render import render
from storykit.site import Site

PLUGIN = Path(__file__).resolve().parent.parent / "plugins" / "storykit_letters"


def pdf_text(path: Path) -> str:
    return "\n".join(page.extract_text() or "" for page in PdfReader(path).pages)


def words(text: str) -> str:
    return " ".join(text.split())


def font_sizes(path: Path) -> set[float]:
    """The size in points of every piece of text in the PDF (WeasyPrint sets sizes in CSS
    pixels on a scaled text matrix)."""
    sizes: set[float] = set()

    def visit(text, _cm, tm, _font, size):
        if text.strip():
            scale = (tm[0] ** 2 + tm[1] ** 2) ** 0.5 or 1
            sizes.add(round(size * scale * 0.75, 1))

    for page in PdfReader(path).pages:
        page.extract_text(visitor_text=visit)
    return sizes


def check_tagged(path: Path) -> int:
    """A tagged PDF with its language, a structure tree and words for every picture;
    returns how many pictures it has."""
    reader = read(path)
    root = catalog(reader)
    assert root.get("/Lang") == "en-GB"
    assert "/StructTreeRoot" in root and root["/MarkInfo"]["/Marked"]
    _counts, figures = structure(reader)
    for figure in figures:
        assert str(figure.get("/Alt") or "").strip(), "a picture without words"
    return len(figures)


def easy_read_body(text: str, title: str) -> str:
    """The Easy Read letter's text after its title, to the signature: its sentences (the
    address block, greeting, title and the reply slip's lines are not sentences)."""
    text = words(text)
    start = text.index(title) + len(title)
    end = text.index("With best wishes")
    return text[start:end]


# --- the three styles ------------------------------------------------------------------------

def test_the_reconsent_letter_in_three_styles(mixed, tmp_path, test_day):
    story = mixed.store.get("st-allowed")
    letter = reconsent_letter(mixed, story)
    assert letter.style == "large_print"  # the storyteller's preferred format
    made = {style: write_letter(mixed, letter, tmp_path / f"{style}.pdf", style=style)
            for style in ("standard", "large_print", "easy_read")}
    for style, path in made.items():
        text = words(pdf_text(path))
        assert "Aisha Rahman" in text and "12 Fictional Road" in text and "BF1 2ZZ" in text
        assert "1 March 2027" in text and "Our reference: st-allowed" in text
        assert "2027-03-01" not in text and "2029-09-02" not in text  # dates in words
        assert "Night feeds on the postnatal ward" in text, style
    standard = words(pdf_text(made["standard"]))
    assert "until 2 September 2029" in standard and "Commissioners, Trust board and Staff " \
        "training" in standard and "a made-up name" in standard
    assert "Yes, you can keep using my story" in standard and "Signature:" in standard
    # large print: nothing smaller than 16pt, headings larger than the body
    sizes = font_sizes(made["large_print"])
    assert min(sizes) >= 16 and max(sizes) > 18 and 18.0 in sizes
    assert min(font_sizes(made["standard"])) < 16
    # Easy Read: every sentence of at most 15 words, a described picture beside each idea
    easy_text = pdf_text(made["easy_read"])
    body = easy_read_body(easy_text, letter.easy_subject)
    assert len(sentences(body)) >= 9
    for sentence in sentences(body):
        assert word_count(sentence) <= EASY_READ_MAX_WORDS, sentence
    assert "Can we keep using your story?" in words(easy_text)
    assert min(font_sizes(made["easy_read"])) >= 14
    assert check_tagged(made["easy_read"]) == len(letter.easy_read)
    for path in made.values():
        check_tagged(path)
    assert check_tagged(made["standard"]) == 0


def test_easy_read_key_words_are_bold(mixed, tmp_path, test_day):
    letter = reconsent_letter(mixed, mixed.store.get("st-allowed"))
    path = write_letter(mixed, letter, tmp_path / "e.pdf", style="easy_read")
    bold: list[str] = []

    def visit(text, _cm, _tm, font, _size):
        if font and "Bold" in str(font.get("/BaseFont", "")) and text.strip():
            bold.append(text.strip())

    for page in PdfReader(path).pages:
        page.extract_text(visitor_text=visit)
    joined = " ".join(bold)
    assert "keep using" in joined and "yes" in joined and "stop" in joined


def test_every_picture_a_letter_may_use_is_drawn_and_described():
    drawn = {p.stem for p in (PLUGIN / "static" / "icons").glob("*.svg")}
    assert drawn == set(ICONS)
    assert all(words.strip() for words in ICONS.values())


# --- the rules letters keep --------------------------------------------------------------------

def test_easy_read_rules_are_kept_where_letters_are_made(mixed, test_day):
    assert word_count("Email **patient.experience@example.org** today.") == 3
    assert sentences("One. Two words! **Three** here?") == ["One.", "Two words!",
                                                             "Three here?"]
    long = "This sentence has far too many words in it for anyone reading Easy Read to follow."
    assert easy_read_problems([long]) and not easy_read_problems("Short and **clear**.")
    assert "do not pair up" in easy_read_problems("A **bold word.")[0]
    assert easy(long, "Short.") == "Short."
    with pytest.raises(LetterError, match="15 words"):
        easy(long)
    letter = reconsent_letter(mixed, mixed.store.get("st-allowed"))
    from dataclasses import replace

    broken = replace(letter, easy_read=(EasyReadPoint(long, "tick"),))
    with pytest.raises(LetterError, match="sentence of 16 words") as info:
        broken.checked()
    assert "Easy Read" in str(info.value) and long not in str(info.value)
    with pytest.raises(LetterError, match="unknown Easy Read picture 'unicorn'"):
        replace(letter, easy_read=(EasyReadPoint("Hello.", "unicorn"),)).checked()
    with pytest.raises(LetterError, match="needs its Easy Read version"):
        replace(letter, easy_read=()).checked()


def test_a_long_title_or_meeting_name_falls_back_to_shorter_easy_read_words(mixed, tmp_path,
                                                                          test_day):
    long_title = "The long and winding story of three nights on the postnatal ward at " \
                 "Brackenford General"
    write_story(mixed.root, "st-longtitle", story_front(title=long_title, slug="long-title"),
                consent=[consent_version(uses=[USE], contact=CONTACT)])
    letter = reconsent_letter(mixed, mixed.store.get("st-longtitle"))
    assert letter.easy_read[0].text == "This letter is about **your story**."
    assert long_title in letter.subject  # the standard letter still names it


# --- who letters go to -------------------------------------------------------------------------

def test_no_contact_details_or_no_contact_wanted_means_no_letter(mixed, tmp_path, test_day):
    with pytest.raises(LetterError, match="no contact details"):
        reconsent_letter(mixed, mixed.store.get("st-anonym"))
    write_story(mixed.root, "st-nocontact", story_front(slug="no-contact"),
                consent=[consent_version(contact={"agrees_to_contact": False,
                                                  "email": "x@example.org"})])
    with pytest.raises(LetterError, match="asked not to be contacted"):
        reconsent_letter(mixed, mixed.store.get("st-nocontact"))
    with pytest.raises(LetterError, match="no active consent"):
        reconsent_letter(mixed, mixed.store.get("st-gone"))


def test_a_child_is_asked_again_in_their_own_right(mixed, tmp_path, test_day):
    write_story(mixed.root, "st-child", story_front(slug="child-story"), consent=[
        consent_version(given_by="parent_with_pr", age_band="16_17",
                        reconsent_due=dt.date(2027, 4, 1), contact=CONTACT)])
    letter = reconsent_letter(mixed, mixed.store.get("st-child"))
    text = " ".join(b.text for b in letter.body)
    assert "someone with parental responsibility agreed for you" in text
    assert "by 1 April 2027" in text
    assert any("**decide** for yourself" in p.text for p in letter.easy_read)


# --- the withdrawal confirmation ---------------------------------------------------------------

def test_the_withdrawal_letter_says_what_was_done_and_what_cannot_be_recalled(
        mixed, tmp_path, test_day):
    met = PackDefinition(use=USE, formats=("booklet",), stories=("st-allowed",),
                         meeting="ICB quality group", meeting_date=dt.date(2027, 2, 20),
                         recipients=("Quality group members",))
    coming = PackDefinition(use="board", formats=("pptx",), stories=("st-allowed",),
                            meeting="Trust Board", meeting_date=dt.date(2027, 4, 2))
    build_pack(mixed, met, tmp_path / "met.zip")
    build_pack(mixed, coming, tmp_path / "coming.zip")
    render(mixed, [mixed.store.get("st-allowed")], "staff_training", "pdf", tmp_path / "r")
    story = mixed.store.withdraw("st-allowed", "stop_future_use", "I have moved away",
                                 by="tester", on=ON)
    letter = withdrawal_letter(mixed, story)
    body = " ".join(b.text + " " + " ".join(b.items) for b in letter.body)
    assert "On 1 March 2027 you asked us to stop using your story" in body
    assert "What we cannot take back" in body
    assert "ICB quality group on 20 February 2027 (recipients: Quality group members)" in body
    assert "Copies we are asking people to delete" in body
    assert "Trust Board on 2 April 2027" in body
    assert "a copy (PDF) made for staff training" in body
    assert "I have moved away" not in body  # the storyteller's own reason is not repeated
    easy_points = " ".join(p.text for p in letter.easy_read)
    assert "**ICB quality group**" in easy_points and "**cannot** take" in easy_points
    for style in ("standard", "large_print", "easy_read"):
        path = write_letter(mixed, letter, tmp_path / f"w-{style}.pdf", style=style)
        check_tagged(path)
        assert "ICB quality group" in words(pdf_text(path))
    assert min(font_sizes(tmp_path / "w-large_print.pdf")) >= 16
    easy_text = pdf_text(tmp_path / "w-easy_read.pdf")
    for sentence in sentences(easy_read_body(easy_text, letter.easy_subject)):
        assert word_count(sentence) <= EASY_READ_MAX_WORDS, sentence


def test_withdrawing_everything_with_a_letter_writes_it_before_the_details_go(
        mixed, tmp_path, test_day, cli):
    build_pack(mixed, PackDefinition(use=USE, formats=("booklet",), stories=("st-allowed",)),
               tmp_path / "p.zip")
    out = tmp_path / "letter.pdf"
    code, stdout, err = cli(mixed.root, "consent", "withdraw", "st-allowed", "--scope",
                            "delete_everything", "--reason", "Delete it", "--letter", out,
                            "--letter-style", "easy_read")
    assert code == 0, err
    assert "wrote" in stdout and out.is_file()
    text = words(pdf_text(out))
    assert "Aisha Rahman" in text and "We **deleted**".replace("**", "") in text
    story = mixed.store.get("st-allowed")
    assert story.erased and story.current_consent.contact is None
    consent_file = (mixed.root / "stories" / "st-allowed" / "consent.yml").read_text()
    assert "aisha" not in consent_file.lower() and "Fictional Road" not in consent_file
    # afterwards the letter cannot be made again: the details are gone
    code, _out, err = cli(mixed.root, "consent", "letter", "st-allowed", "--kind",
                          "withdrawal", "-o", tmp_path / "again.pdf")
    assert code == 1 and "make the letter as you withdraw" in err
    entry = mixed.audit.query(audit.AuditFilter(action="letter.made"))[0]
    assert entry.story_id == "st-allowed" and entry.detail == "withdrawal letter, easy_read"


def test_a_letter_that_cannot_be_made_stops_the_withdrawal_first(mixed, tmp_path, test_day,
                                                                cli):
    code, _out, err = cli(mixed.root, "consent", "withdraw", "st-anonym", "--scope",
                          "stop_future_use", "--reason", "x", "--letter", tmp_path / "l.pdf")
    assert code == 1 and "no contact details" in err
    assert mixed.store.get("st-anonym").current_consent.status == "active"
    code, _out, err = cli(mixed.root, "consent", "withdraw", "st-allowed", "--scope",
                          "stop_future_use", "--reason", "x", "--letter", tmp_path / "l.txt")
    assert code == 1 and "ending in .pdf" in err
    assert mixed.store.get("st-allowed").current_consent.status == "active"


# --- the commands --------------------------------------------------------------------------------

def test_consent_letter_command_and_its_bad_input(mixed, tmp_path, test_day, cli):
    out = tmp_path / "r.pdf"
    code, stdout, err = cli(mixed.root, "consent", "letter", "night-feeds", "--kind",
                            "reconsent", "-o", out)
    assert code == 0, err
    assert "(large print)" in stdout and min(font_sizes(out)) >= 16
    cases = [
        (("st-allowed", "--kind", "thanks", "-o", tmp_path / "x.pdf"), "'thanks'"),
        (("st-allowed", "--kind", "reconsent", "--style", "tiny", "-o", tmp_path / "x.pdf"),
         "'tiny'"),
        (("st-allowed", "--kind", "reconsent", "-o", out), "already exists"),
        (("st-allowed", "--kind", "reconsent", "-o", tmp_path), "ending in .pdf"),
        (("st-allowed", "--kind", "reconsent", "-o", tmp_path / "no" / "x.pdf"),
         "does not exist"),
        (("st-nothere", "--kind", "reconsent", "-o", tmp_path / "x.pdf"), "st-nothere"),
        (("st-allowed", "--kind", "withdrawal", "-o", tmp_path / "x.pdf"), "not been withdrawn"),
        (("st-allowed", "--kind", "reconsent", "--theme", "nope", "-o", tmp_path / "x.pdf"),
         "nope"),
    ]
    for args, message in cases:
        code, _out, err = cli(mixed.root, "consent", "letter", *args)
        assert code != 0 and message in err, (args, err)
    assert not (tmp_path / "x.pdf").exists()
    code, _out, _err = cli(mixed.root, "consent", "letter", "st-allowed", "--kind",
                           "reconsent", "--style", "easy_read", "-o", out, "--force")
    assert code == 0 and "Can we keep using your story?" in words(pdf_text(out))


def test_consent_expiring_lists_ending_and_ended_and_writes_letters(mixed, tmp_path, test_day,
                                                                   cli):
    write_story(mixed.root, "st-soon", story_front(slug="soon"), consent=[
        consent_version(expires=ON + dt.timedelta(days=30), contact=CONTACT)])
    write_story(mixed.root, "st-later", story_front(slug="later"), consent=[
        consent_version(expires=ON + dt.timedelta(days=90))])
    write_story(mixed.root, "st-kid", story_front(slug="kid"), consent=[
        consent_version(given_by="parent_with_pr", age_band="13_15",
                        reconsent_due=ON + dt.timedelta(days=10))])
    code, out, _ = cli(mixed.root, "consent", "expiring")
    assert code == 0
    assert "Consent has ended (1)" in out and "st-expired" in out
    assert "Consent ends in the next 60 days" in out and "st-soon" in out and "st-kid" in out
    assert "re-consent is due on 11 March 2027 (in 10 days)" in out
    assert "consent ends on 31 March 2027 (in 30 days). Letter in large print by post" in out
    assert "st-later" not in out and "st-gone" not in out  # withdrawn: nothing to ask
    code, out, _ = cli(mixed.root, "consent", "expiring", "--days", "100", "--json")
    found = {s["id"]: s for s in json.loads(out)["stories"]}
    assert {"st-later", "st-soon", "st-kid", "st-expired"} <= set(found)
    assert found["st-later"]["letter"] == "no contact details on record"
    assert found["st-expired"]["ended"] and not found["st-soon"]["ended"]
    folder = tmp_path / "letters"
    code, out, err = cli(mixed.root, "consent", "expiring", "--letters", folder)
    assert code == 0, err
    assert sorted(p.name for p in folder.iterdir()) == ["st-expired-reconsent.pdf",
                                                        "st-soon-reconsent.pdf"]
    assert "Can we keep using your story?" in words(pdf_text(folder / "st-expired-reconsent.pdf"))
    code, _out, err = cli(mixed.root, "consent", "expiring", "--letters", folder)
    assert code == 1 and "already exists" in err
    for bad, message in ((("--days", "-1"), "-1"), (("--days", "ten"), "ten"),
                         (("--letters", tmp_path / "letters" / "st-soon-reconsent.pdf"),
                          "is a file")):
        code, _out, err = cli(mixed.root, "consent", "expiring", *bad)
        assert code != 0 and message in err


def test_letters_need_a_plugin_that_draws_them(mixed, tmp_path, test_day):
    mixed.plugins.unregister("storykit_letters")
    letter = reconsent_letter(mixed, mixed.store.get("st-allowed"))
    with pytest.raises(LetterError, match="no plugin draws letters"):
        write_letter(mixed, letter, tmp_path / "x.pdf")
    assert not (tmp_path / "x.pdf").exists()


def test_letter_settings_are_checked(make_site):
    from storykit.config import load_config
    from storykit.errors import StorykitError

    root = write_mixed(make_site(), toml="[site]\ntitle = \"T\"\n\n[plugins.storykit_letters]\n"
                                         "phone = \"\"\nreturn_address = \"one line\"\n"
                                         "colour = \"red\"\n")
    site = Site(load_config(root))
    with pytest.raises(StorykitError) as info:
        site.plugins.check_config()
    message = str(info.value)
    assert "phone must be one line" in message and "return_address must be a list" in message
    assert "unknown setting 'colour'" in message


def test_letter_settings_appear_on_the_letter(make_site, tmp_path, monkeypatch):
    from storykit import dates

    monkeypatch.setattr(dates, "FIXED_TODAY", ON)
    root = write_mixed(make_site(), toml="[site]\ntitle = \"T\"\norganisation = \"Example "
                                         "NHS Trust\"\n\n[plugins.storykit_letters]\n"
                                         "phone = \"01632 960 000\"\nsignature = \"Sam Lee, "
                                         "Patient Experience Lead\"\nreturn_address = "
                                         "[\"Patient Experience\", \"BF1 1AA\"]\n")
    site = Site.open(root)
    letter = reconsent_letter(site, site.store.get("st-allowed"))
    text = words(pdf_text(write_letter(site, letter, tmp_path / "l.pdf", style="standard")))
    assert "Phone: 01632 960 000" in text and "Sam Lee, Patient Experience Lead" in text
    assert "Patient Experience BF1 1AA" in text and re.search(r"Example NHS Trust", text)


def test_letters_are_never_distributions(mixed, tmp_path, test_day):
    letter = reconsent_letter(mixed, mixed.store.get("st-allowed"))
    write_letter(mixed, letter, tmp_path / "l.pdf")
    assert mixed.distributions.all() == []
    assert isinstance(letter, Letter)
