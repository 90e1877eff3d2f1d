"""storykit.toml: defaults, custom uses and paths, and clear errors for every mistake."""

from __future__ import annotations

import pytest
from conftest import consent_version, write_story

from storykit import model as m
from storykit.config import find_site_root, load_config
from storykit.errors import ConfigError, ValidationError
from storykit.site import Site


def config_from(make_site, toml: str):
    return load_config(make_site(toml=toml))


def test_minimal_config_has_the_defaults(make_site):
    root = make_site(toml='[site]\ntitle = "Stories"\n')
    cfg = load_config(root)
    assert cfg.title == "Stories" and cfg.language == "en-GB" and cfg.theme == "nhs"
    assert cfg.default_expiry_years == 3 and cfg.expiry_warning_days == 60
    assert cfg.use_names == tuple(m.DEFAULT_USES)
    assert cfg.external_uses == m.EXTERNAL_USES
    assert cfg.path("stories") == root.resolve() / "stories"
    assert cfg.path("instance") == root.resolve() / "instance"


def test_full_config(make_site):
    toml = """
[site]
title = "Our patient stories"
organisation = "Example NHS Trust"
language = "cy-GB"
base_url = "https://stories.example.nhs.uk/"
theme = "high-contrast"
contact_email = "patient.experience@example.nhs.uk"
description = "Stories from our wards."

[consent]
default_expiry_years = 2
expiry_warning_days = 30

[uses.ward_posters]
label = "Ward posters"

[uses.podcast]
label = "Trust podcast"
external = true

[uses.board]
label = "Board of directors"

[paths]
stories = "content/stories"
instance = "private"

[plugins.storykit_pdf]
paper = "A4"
"""
    root = make_site(toml=toml)
    cfg = load_config(root)
    assert cfg.use_names[-2:] == ("ward_posters", "podcast")
    assert cfg.label("board") == "Board of directors" and cfg.label("ward_posters") == "Ward posters"
    assert "podcast" in cfg.external_uses and "ward_posters" not in cfg.external_uses
    assert cfg.path("stories") == root.resolve() / "content" / "stories"
    assert cfg.plugin_config("storykit_pdf") == {"paper": "A4"}
    assert cfg.plugin_config("unknown") == {}


BAD = [
    ('title = "x"\n', "unknown section(s) title"),
    ('[site]\norganisation = "Trust"\n', "[site] needs a title"),
    ('[site]\ntitle = ""\n', "[site] needs a title"),
    ('[site]\ntitle = 3\n', "[site] title must be text in quotes"),
    ('[site]\ntitle = "T"\ntheme = true\n', "[site] theme must be text in quotes"),
    ('[site]\ntitle = "T"\ncolour = "blue"\n', "[site] has an unknown setting 'colour'"),
    ('[site]\ntitle = "T"\nbase_url = "stories.example.nhs.uk"\n', "base_url must start with https://"),
    ('[site]\ntitle = "T"\ncontact_email = "nobody"\n', "is not an email address"),
    ('[site]\ntitle = "T"\nlanguage = "English"\n', "language must be a language tag"),
    ('site = "Stories"\n', "site must be a [site] section"),
    ('[site]\ntitle = "T"\n[consent]\ndefault_expiry_years = "3"\n',
     "[consent] default_expiry_years must be a whole number"),
    ('[site]\ntitle = "T"\n[consent]\ndefault_expiry_years = 2.5\n', "must be a whole number"),
    ('[site]\ntitle = "T"\n[consent]\ndefault_expiry_years = true\n', "must be a whole number"),
    ('[site]\ntitle = "T"\n[consent]\ndefault_expiry_years = 0\n', "between 1 and 10"),
    ('[site]\ntitle = "T"\n[consent]\nexpiry_warning_days = 400\n', "between 0 and 366"),
    ('[site]\ntitle = "T"\n[consent]\nexpiry = 3\n', "[consent] has an unknown setting 'expiry'"),
    ('[site]\ntitle = "T"\n[uses.Ward-Posters]\nlabel = "x"\n', "a use name is lower-case letters"),
    ('[site]\ntitle = "T"\n[uses]\n"ward\\n" = {label = "x"}\n', "a use name is lower-case letters"),
    ('[site]\ntitle = "T"\n[uses]\nposters = "Ward posters"\n', "[uses.posters] must be a table"),
    ('[site]\ntitle = "T"\n[uses.posters]\nlabel = 3\n', "label must be text and external true or false"),
    ('[site]\ntitle = "T"\n[uses.posters]\nexternal = "yes"\n', "external true or false"),
    ('[site]\ntitle = "T"\n[uses.posters]\nshow = true\n', "[uses.posters] has unknown setting(s) show"),
    ('[site]\ntitle = "T"\n[paths]\nstories = "../elsewhere"\n', "must be a folder inside the site"),
    ('[site]\ntitle = "T"\n[paths]\nstories = "/etc"\n', "must be a folder inside the site"),
    ('[site]\ntitle = "T"\n[paths]\nstories = ""\n', "[paths] stories must be a folder name"),
    ('[site]\ntitle = "T"\n[paths]\ncache = "c"\n', "[paths] has an unknown setting 'cache'"),
    ('[site]\ntitle = "T"\n[paths]\ninstance = "stories/private"\n', "must be separate folders"),
    ('[site]\ntitle = "T"\n[paths]\nstories = "."\n', "must be separate folders"),
    ('[site]\ntitle = "T"\n[plugins]\nstorykit_pdf = "on"\n', "[plugins.storykit_pdf] must be a table"),
    ('[site]\ntitle = "T"\n[site]\ntitle = "again"\n', "line 3"),
    ('[site\ntitle = "T"\n', "line 1"),
    ('[site]\ntitle = T\n', "line 2"),
]


@pytest.mark.parametrize(("toml", "message"), BAD)
def test_config_mistakes_are_clear_errors(make_site, toml, message):
    with pytest.raises(ConfigError) as info:
        config_from(make_site, toml)
    text = str(info.value)
    assert message in text
    assert "storykit.toml" in text.splitlines()[0]


def test_every_config_problem_is_reported_at_once(make_site):
    with pytest.raises(ConfigError) as info:
        config_from(make_site, '[site]\ntheme = 1\n[consent]\nexpiry_warning_days = -1\n[paths]\nx = "y"\n')
    lines = str(info.value).splitlines()
    assert len(lines) == 4
    assert all(line.split(": ", 1)[0].endswith("storykit.toml") for line in lines)


def test_unreadable_configs(make_site, tmp_path):
    root = make_site()
    (root / "storykit.toml").write_bytes(b'[site]\ntitle = "Caf\xe9"\n')
    with pytest.raises(ConfigError, match="is not UTF-8 text"):
        load_config(root)
    (root / "storykit.toml").unlink()
    with pytest.raises(ConfigError, match=r"not found \(is this a storykit site\?\)"):
        load_config(root)
    (root / "storykit.toml").mkdir()
    with pytest.raises(ConfigError, match="cannot be read"):
        load_config(root)


def test_the_nearest_site_upwards_is_found(make_site, tmp_path):
    root = make_site()
    nested = root / "stories" / "st-abc001" / "media"
    nested.mkdir(parents=True)
    assert find_site_root(nested) == root.resolve()
    assert find_site_root(root) == root.resolve()
    assert Site.discover(nested).root == root.resolve()
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    assert find_site_root(outside) is None


def test_site_uses_decide_what_consent_files_may_name(make_site):
    custom = make_site("custom", toml='[site]\ntitle = "T"\n[uses.ward_posters]\nlabel = "Posters"\n')
    plain = make_site("plain")
    for root in (custom, plain):
        write_story(root, "st-poster", consent=[consent_version(uses=["board", "ward_posters"])])
    assert Site.open(custom).store.get("st-poster").current_consent.uses == ["board", "ward_posters"]
    with pytest.raises(ValidationError, match="'ward_posters' is not a valid use"):
        Site.open(plain).store.get("st-poster")


def test_custom_story_folder_is_used(make_site):
    root = make_site(toml='[site]\ntitle = "T"\n[paths]\nstories = "content"\ninstance = "state"\n')
    site = Site.open(root)
    story = site.store.create("Night feeds")
    assert story.path.parent.parent == root.resolve() / "content"
    assert (root / "state" / "revisions" / story.id).is_dir()
