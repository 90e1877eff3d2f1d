"""Themes on the web: the three built-in themes, inheritance, site overrides, CSS that may not
leave its theme, and autoescaping templates. Styles are checked as Chromium computes them."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from browser_support import chromium, serve_folder
from conftest import BASIC_TOML, ON, on_day, story_front, write_story
from jinja2.sandbox import SandboxedEnvironment
from PIL import Image
from storykit_web import assets
from storykit_web.build import Builder, build_site, check_out_dir

from storykit.site import Site
from storykit.themes import ThemeError, check_css, load_theme

#: Renders and builds decide as if today were ON (conftest.test_day).
pytestmark = pytest.mark.usefixtures("test_day")

THEMES = ("nhs", "high-contrast", "large-print")


def published(slug: str, title: str, **over) -> dict:
    return story_front(status="published", slug=slug, title=title, **over)


def small_site(make_site, name: str = "site") -> Path:
    root = make_site(name, BASIC_TOML)
    write_story(root, "st-theme01", published(
        "window", "The window by my bed", content_warning="Talks about a stroke.",
        images=[{"file": "media/garden.png", "alt": "A garden with a bench", "kind": "photo"}]))
    picture = root / "stories" / "st-theme01" / "media" / "garden.png"
    picture.parent.mkdir()
    Image.new("RGB", (400, 300), (60, 140, 60)).save(picture)
    write_story(root, "st-theme02", published("second", "A second story"))
    return root


def build(root: Path, theme: str | None = None, out: str = "out"):
    return build_site(Site.open(root), root / out, theme=theme)


def site_css(root: Path, out: str = "out") -> str:
    return (root / out / "static" / "css" / "site.css").read_text(encoding="utf-8")


# --- the built-in themes ---------------------------------------------------------------------

@pytest.mark.parametrize("name", THEMES)
def test_each_built_in_theme_loads_and_its_css_passes_the_checks(site, name):
    """load_theme checks the CSS of every folder but storykit's own themes: this does."""
    theme = load_theme(site, name)
    for folder in theme.folders:
        check_css(folder)  # raises ThemeError naming the file and line
    files = assets.static_files(theme)
    assert {"css/fonts.css", "css/web.css", "fonts/LiberationSans-Regular.ttf"} <= set(files)
    css = assets.bundle_css(theme, files)
    assert "--sk-font: Frutiger, Arial, 'Liberation Sans', Arimo, sans-serif;" in css
    if name != "nhs":
        assert theme.folders[-1].name == "nhs" and "css/theme.css" in files
        assert files["css/theme.css"].parent.parent.parent.name == name


def test_child_themes_take_their_colours_from_theme_toml(site):
    assert "--sk-primary: #005EB8;" in assets.colour_rules(load_theme(site, "nhs"))
    high = assets.colour_rules(load_theme(site, "high-contrast"))
    assert "--sk-primary: #000000;" in high and "--sk-link: #0000CC;" in high


def test_the_builder_uses_a_sandboxed_autoescaping_environment(site, tmp_path):
    builder = Builder(site, check_out_dir(site, tmp_path / "out"), load_theme(site), 1, "t")
    assert isinstance(builder.env, SandboxedEnvironment)
    assert builder.env.autoescape is True


def test_compiled_templates_are_kept_and_an_edited_template_is_used_at_once(make_site):
    """Each command reuses the templates it compiled from instance/cache/templates (the
    web plugin's own come compiled with the package), but a changed template is compiled
    again: the page shows the edit, never the old text."""
    root = small_site(make_site)
    override = root / "themes" / "nhs" / "templates" / "web" / "_footer.html"
    override.parent.mkdir(parents=True)
    for word in ("Before", "After"):
        override.write_text(f'<footer class="site-footer"><p>{word} edit</p></footer>\n',
                            encoding="utf-8")
        build(root, out=f"out-{word}")
        page = (root / f"out-{word}" / "stories" / "window.html").read_text(encoding="utf-8")
        assert f"{word} edit" in page
        cached = sorted((root / "instance" / "cache" / "templates").iterdir())
        assert cached and all(p.stat().st_mode & 0o077 == 0 for p in cached)  # private files


def test_a_template_cache_that_cannot_be_made_only_makes_rendering_slower(make_site):
    root = small_site(make_site)
    (root / "instance" / "cache").mkdir(parents=True)
    (root / "instance" / "cache" / "templates").write_text("not a folder", encoding="utf-8")
    report = build(root)
    assert report.rendered == 2
    assert "The window by my bed" in (root / "out" / "stories" / "window.html").read_text(
        encoding="utf-8")


# --- overrides and inheritance -----------------------------------------------------------------

def test_a_site_override_replaces_a_single_template(make_site):
    root = small_site(make_site)
    override = root / "themes" / "nhs" / "templates" / "web" / "_footer.html"
    override.parent.mkdir(parents=True)
    override.write_text('<footer class="site-footer"><p>Brackenford footer {{ site.title }}'
                        '</p></footer>\n', encoding="utf-8")
    for theme in ("nhs", "large-print"):  # large-print's parent is nhs: it gets it too
        build(root, theme, out=theme)
        page = (root / theme / "stories" / "window.html").read_text(encoding="utf-8")
        assert "Brackenford footer Test stories" in page
        assert "Accessibility statement" not in page  # the old footer is gone
        assert 'class="site-header"' in page and 'class="warning-callout"' in page  # the rest stays


def test_a_site_theme_with_a_parent_inherits_what_it_does_not_change(make_site):
    root = small_site(make_site)
    theme = root / "themes" / "brackenford"
    (theme / "templates" / "web").mkdir(parents=True)
    (theme / "theme.toml").write_text(
        'name = "brackenford"\nparent = "high-contrast"\ndescription = "Ours"\n'
        '[colours]\nprimary = "#330072"\n', encoding="utf-8")
    (theme / "templates" / "web" / "_header.html").write_text(
        '<header class="site-header"><p>Our header</p></header>\n', encoding="utf-8")
    build(root, "brackenford")
    css = site_css(root)
    assert "--sk-primary: #330072;" in css  # its own colour
    assert "--sk-link: #0000CC;" in css  # its parent's colour
    assert "/* css/theme.css */" in css and "text-decoration-thickness: 2px" in css  # parent CSS
    assert "/* css/web.css */" in css  # the grandparent's (nhs) stylesheet
    page = (root / "out" / "stories" / "window.html").read_text(encoding="utf-8")
    assert "<p>Our header</p>" in page and 'class="site-footer"' in page
    assert (root / "out" / "static" / "fonts" / "LiberationSans-Bold.ttf").is_file()


# --- CSS may not leave the theme -------------------------------------------------------------------

BAD_CSS = {
    "a local file": "background: url(file:///etc/passwd);",
    "a path out of the theme": "background: url(../../../../../etc/passwd);",
    "an absolute path": "background: url('/etc/passwd');",
    "the network": "background: url(http://169.254.169.254/latest/meta-data/);",
    "a scheme-relative address": "background: url(//evil.example/x.png);",
    "an import": '@import "https://internal.example/x.css";',
    "escaped characters": 'background: url("\\2e\\2e/\\2e\\2e/secret");',
    "a web font elsewhere": "@font-face { font-family: X; src: url(http://evil.example/x.woff); }",
    "an image-set string": 'background: image-set("file:///etc/passwd" 1x);',
    "an import of a local file": '@import url(fonts.css);',
}


@pytest.mark.parametrize("rule", BAD_CSS.values(), ids=BAD_CSS.keys())
def test_theme_css_cannot_reach_outside_its_theme(make_site, rule):
    root = small_site(make_site)
    css = root / "themes" / "nhs" / "static" / "css" / "theme.css"
    css.parent.mkdir(parents=True)
    css.write_text(f"body {{\n  color: black;\n}}\n.x {{ {rule} }}\n", encoding="utf-8")
    with pytest.raises(ThemeError, match=rf"{css}:4: .*a theme may only use its own files"):
        build(root)
    assert not (root / "out").exists()


#: Ways to write an address that a regular expression misses or misreads (issue 12, hardening
#: item 7, and row 12 of the bad-input catalogue). Each is on line 2 of the file.
CSS_TRICKS = {
    "@import with no space": b'@import"file:///etc/passwd";',
    "@import url() with a comment and spaces": b"@import/**/url(  'http://internal.example/a.css' );",
    "@import of a bare word": b"@import internal;",
    "@import escaped": b'@\\69mport "https://internal.example/a.css";',
    "@import inside a rule": b".x { @import 'https://internal.example/a.css'; }",
    "url written with an escape": b".x { background: u\\72l(file:///etc/passwd); }",
    "url written with an escape, quoted": b'.x { background: u\\72l("file:///etc/passwd"); }',
    "URL in capitals": b".x { background: URL(file:///etc/passwd); }",
    "a unicode escape in the address": b'.x { background: url("\\66 ile:///etc/passwd"); }',
    "an escaped dot in the address": b'.x { background: url("\\2e\\2e/\\2e\\2e/secret"); }',
    "a comment that is really part of the address": b".x { background: url(/**/etc/passwd); }",
    "a tab inside the scheme": b'.x { background: url("fi\tle:///etc/passwd"); }',
    "a web font elsewhere": b"@font-face { font-family: X; src: url(http://169.254.169.254/x); }",
    "a web font from a src() function": b'@font-face { font-family: X; src: src("//evil.example/x"); }',
    "an image-set string": b'.x { background: image-set("file:///etc/passwd" 1x); }',
    "a prefixed image-set string": b'.x { background: -webkit-image-set("http://evil.example/a" 1x); }',
    "an image() string": b'.x { background: image("file:///etc/passwd"); }',
    "var() inside src()": b".x { --u: 'http://evil.example/'; background: src(var(--u)); }",
    "inside @media": b"@media print { .x { background: url(http://evil.example/p.png); } }",
    "a url() CSS cannot read": b".x { background: url(a b); }",
    "a scheme-relative address": b".x { cursor: url(//evil.example/c.cur), auto; }",
}


def odd_theme(root: Path, css: bytes) -> Path:
    """A site theme ``odd`` (parent: nhs) whose theme.css is ``css``."""
    folder = root / "themes" / "odd"
    (folder / "static" / "css").mkdir(parents=True)
    (folder / "theme.toml").write_text('name = "odd"\nparent = "nhs"\n', encoding="utf-8")
    (folder / "static" / "img").mkdir()
    Image.new("RGB", (4, 4)).save(folder / "static" / "img" / "a.png")
    path = folder / "static" / "css" / "theme.css"
    path.write_bytes(css)
    return path


@pytest.mark.parametrize("rule", CSS_TRICKS.values(), ids=CSS_TRICKS.keys())
def test_the_css_check_reads_css_as_a_browser_does(make_site, rule):
    root = make_site("site", BASIC_TOML)
    css = odd_theme(root, b"body { color: black; }\n" + rule + b"\n.y { color: red; }\n")
    with pytest.raises(ThemeError, match=rf"{css}:2: .*a theme may only use its own files"):
        load_theme(Site.open(root), "odd")


def test_css_that_is_not_utf8_is_refused(make_site):
    root = make_site("site", BASIC_TOML)
    css = odd_theme(root, ".x { background: url(http://evil.example/x); }".encode("utf-16"))
    with pytest.raises(ThemeError, match=rf"{css}:1: the file is not UTF-8 text"):
        load_theme(Site.open(root), "odd")


def test_ordinary_css_still_passes_the_check(make_site):
    css = (b'@charset "utf-8";\r\n'
           b"@namespace svg url(http://www.w3.org/2000/svg);\r\n"
           b'@import "extra.css";\r\n'
           b'.quote::before { content: "\\201C"; }  /* url(http://in.a/comment) */\r\n'
           b".md\\:wide { width: 100%; }\r\n"
           b".a { background: url(../img/a.png), url('../img/a.png#x'); }\r\n"
           b'.b { background: image-set(url("../img/a.png") 1x, "../img/a.png" 2x type("image/png")); }\r\n'
           b".c { background: url(data:image/png;base64,iVBORw0KGgo=); }\r\n"
           b'.d { font-family: "http://not-an-address"; }\r\n')
    root = make_site("site", BASIC_TOML)
    path = odd_theme(root, css)
    (path.parent / "extra.css").write_text(".e { color: red; }\n", encoding="utf-8")
    assert load_theme(Site.open(root), "odd").name == "odd"


def test_what_the_css_check_remembers_never_hides_a_new_problem(make_site, tmp_path):
    """The addresses found in a style sheet are kept for its exact bytes (tokenising costs
    every build and preview); whether each stays inside the theme is decided every time."""
    root = make_site("site", BASIC_TOML)
    css = odd_theme(root, b".a { background: url(../img/a.png); }\n")
    load_theme(Site.open(root), "odd")
    assert (root / "instance" / "cache" / "css-addresses.pickle").is_file()
    outside = tmp_path / "outside"
    outside.mkdir()
    img = css.parent.parent / "img"
    for child in img.iterdir():
        child.unlink()
    img.rmdir()
    img.symlink_to(outside, target_is_directory=True)  # same bytes, now leading out
    with pytest.raises(ThemeError, match=rf"{css}:1: .*outside the theme's static folder"):
        load_theme(Site.open(root), "odd")
    img.unlink()
    css.write_bytes(b'.a { background: url(../img/a.png); }\n@import"file:///etc/passwd";\n')
    with pytest.raises(ThemeError, match=rf"{css}:2: .*a theme may only use its own files"):
        load_theme(Site.open(root), "odd")


def test_a_static_file_linking_out_of_the_theme_is_refused(make_site, tmp_path):
    root = small_site(make_site)
    secret = tmp_path / "secret.txt"
    secret.write_text("private", encoding="utf-8")
    static = root / "themes" / "nhs" / "static" / "img"
    static.mkdir(parents=True)
    os.symlink(secret, static / "logo.png")
    with pytest.raises(ThemeError, match=r"logo.png: links to a file outside the theme"):
        build(root)
    assert not (root / "out").exists()


@pytest.mark.parametrize("value", ["red", "#00F; } body { background: url(x)", "#12345"])
def test_theme_colours_must_be_plain_colours(make_site, value):
    root = small_site(make_site)
    theme = root / "themes" / "odd"
    theme.mkdir(parents=True)
    (theme / "theme.toml").write_text(f'name = "odd"\nparent = "nhs"\n[colours]\n'
                                      f'primary = {json.dumps(value)}\n', encoding="utf-8")
    with pytest.raises(ThemeError, match="colour primary"):
        build(root, "odd")


def test_web_templates_escape_what_stories_say(make_site):
    root = make_site("site", BASIC_TOML)
    write_story(root, "st-escape1", published("escape", "<b>Bold</b> & brave",
                                              summary="Said <i>quietly</i>."))
    build(root)
    out = root / "out"
    page = (out / "stories" / "escape.html").read_text(encoding="utf-8")
    assert "<h1 class=\"story__title\">&lt;b&gt;Bold&lt;/b&gt; &amp; brave</h1>" in page
    assert "<title>&lt;b&gt;Bold&lt;/b&gt; &amp; brave - Test stories</title>" in page
    for listing in ("index.html", "stories.html", "tags/night-staff.html", "feed.xml"):
        text = (out / listing).read_text(encoding="utf-8")
        assert "&lt;b&gt;Bold&lt;/b&gt; &amp; brave" in text and "<b>Bold" not in text, listing
    index = (out / "search-index.js").read_text(encoding="utf-8")
    assert "\\u003cb\\u003eBold\\u003c/b\\u003e \\u0026 brave" in index and "<b>" not in index


# --- how the themes look, as Chromium computes it ----------------------------------------------------

@pytest.fixture(scope="module")
def themed(tmp_path_factory):
    """A small site built in each theme, served on 127.0.0.1."""
    top = tmp_path_factory.mktemp("themes")
    (top / "stories").mkdir()
    (top / "storykit.toml").write_text(BASIC_TOML, encoding="utf-8")
    root = top
    write_story(root, "st-theme01", published(
        "window", "The window by my bed", content_warning="Talks about a stroke.",
        tags=["stroke", "discharge"]),
        body="I *watched* the garden.\n\nA [link](https://www.nhs.uk/) in the text.\n")
    with on_day(ON):
        for theme in THEMES:
            build_site(Site.open(root), top / "out" / theme, theme=theme)
    with serve_folder(top / "out") as base, chromium() as browser:
        yield base, browser


STYLE = """(selector) => { const s = getComputedStyle(document.querySelector(selector));
  return {size: parseFloat(s.fontSize), height: parseFloat(s.lineHeight), colour: s.color,
          background: s.backgroundColor, family: s.fontFamily, style: s.fontStyle,
          decoration: s.textDecorationLine, border: s.borderTopWidth + ' ' + s.borderTopColor,
          align: s.textAlign, transform: s.textTransform, scroll: s.scrollBehavior}; }"""
SMALLEST_TEXT = """() => Math.min(...[...document.body.querySelectorAll('*')]
  .filter(e => [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim()))
  .filter(e => e.getClientRects().length && !e.closest('.skip-link, .visually-hidden'))
  .map(e => parseFloat(getComputedStyle(e).fontSize)))"""


def style(page, selector: str) -> dict:
    return page.evaluate(STYLE, selector)


def open_page(themed, theme: str, path: str = "stories/window.html", width: int = 1280,
              **options):
    base, browser = themed
    page = browser.new_page(viewport={"width": width, "height": 900}, **options)
    page.goto(f"{base}{theme}/{path}")
    return page


def test_the_nhs_theme_looks_like_nhs_uk(themed):
    page = open_page(themed, "nhs")
    body = style(page, "body")
    assert body["size"] == 19 and body["height"] == pytest.approx(19 * 1.47, abs=0.1)
    assert body["colour"] == "rgb(33, 43, 50)" and body["align"] == "left"
    assert body["family"].startswith("Frutiger, Arial, \"Liberation Sans\"")
    assert style(page, ".site-header")["background"] == "rgb(0, 94, 184)"
    assert style(page, ".site-header__organisation")["colour"] == "rgb(255, 255, 255)"
    assert style(page, ".story__body a")["colour"] == "rgb(0, 94, 184)"
    assert style(page, ".story__body em")["style"] == "normal"  # no italics
    measure = page.evaluate("document.querySelector('.reading-width').getBoundingClientRect().width")
    assert measure <= 70 * 19  # about 70 characters a line at most
    page.keyboard.press("Tab")  # the skip link comes first and shows on focus
    assert page.evaluate("document.activeElement.className") == "skip-link"
    focused = style(page, ".skip-link")
    assert focused["background"] == "rgb(255, 235, 59)" and focused["colour"] == "rgb(33, 43, 50)"
    page.close()
    phone = open_page(themed, "nhs", width=375)
    assert style(phone, "body")["size"] == 16
    phone.close()


def test_the_high_contrast_theme_is_black_on_white_with_underlined_links(themed):
    page = open_page(themed, "high-contrast")
    body = style(page, "body")
    assert body["colour"] == "rgb(0, 0, 0)" and body["background"] == "rgb(255, 255, 255)"
    assert style(page, ".site-header")["background"] == "rgb(0, 0, 0)"
    for link in (".story__body a", ".site-nav__link", ".tag"):
        assert style(page, link)["decoration"] == "underline", link
    assert style(page, ".warning-callout")["border"] == "3px rgb(0, 0, 0)"
    page.close()


@pytest.mark.parametrize("width", [375, 1280])
def test_large_print_text_is_never_smaller_than_18_point(themed, width):
    for path in ("stories/window.html", "index.html", "stories.html"):
        page = open_page(themed, "large-print", path, width=width)
        assert style(page, "body")["size"] >= 24  # 18pt = 24 CSS pixels
        assert page.evaluate(SMALLEST_TEXT) >= 24, path
        assert style(page, "body")["align"] == "left"
        assert style(page, ".story__body em" if "window" in path else "h1")["style"] == "normal"
        page.close()


def test_pages_respect_reduced_motion(themed):
    calm = open_page(themed, "nhs", reduced_motion="reduce")
    assert style(calm, "html")["scroll"] == "auto"
    calm.close()
    moving = open_page(themed, "nhs", reduced_motion="no-preference")
    assert style(moving, "html")["scroll"] == "smooth"
    moving.close()
