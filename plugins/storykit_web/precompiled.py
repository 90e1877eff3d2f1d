"""The website's own templates, compiled to Python ahead of time.

A clean build compiled the web plugin's templates on every cold start (about 0.1 CPU second,
in a process of its own while both cores were busy loading stories). They are the same for
every site until somebody edits them, so the package keeps them compiled: one Python module
each in ``templates_compiled/``, which Jinja's ``ModuleLoader`` imports (and Python keeps
their bytecode, like any module's). ``manifest.json`` there records each template's source
digest and the Jinja version and settings they were compiled with.

They are used only while all of that still holds; otherwise a template is compiled from its
source as before. A theme's own template of the same name always wins, compiled from source.

Regenerate after editing a template in ``templates/web``: ``./dev templates`` (that is,
``python -m storykit_web.precompiled``). tests/test_web_templates.py fails while the
committed modules are stale.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import assets

if TYPE_CHECKING:  # pragma: no cover
    import jinja2

COMPILED = Path(__file__).parent / "templates_compiled"
MANIFEST = "manifest.json"
PREFIX = "web/"
#: The environment settings compiled code depends on (besides Jinja's version and class).
SETTINGS = ("block_start_string", "block_end_string", "variable_start_string",
            "variable_end_string", "comment_start_string", "comment_end_string",
            "line_statement_prefix", "line_comment_prefix", "trim_blocks", "lstrip_blocks",
            "newline_sequence", "keep_trailing_newline", "optimized", "autoescape",
            "is_async")


def settings_of(env: jinja2.Environment) -> list[Any] | None:
    """What compiled code depends on in ``env``; None when it cannot be compared (a
    function deciding autoescaping, a ``finalize``, an extension)."""
    import jinja2

    if callable(env.autoescape) or env.finalize is not None or env.extensions:
        return None
    return [jinja2.__version__, type(env).__name__, *(getattr(env, s) for s in SETTINGS)]


def source_digests(folder: Path = assets.TEMPLATES) -> dict[str, str]:
    """Each web template's name and the SHA-256 of its source."""
    web = folder / PREFIX.rstrip("/")
    return {f"{PREFIX}{p.relative_to(web).as_posix()}": hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(web.rglob("*")) if p.is_file()}


def _usable(folder: Path, settings: list[Any]) -> set[str]:
    """The templates whose compiled modules in ``folder`` match their sources (read again
    each time: an edited template is seen at once) and ``settings``: all of them, or none."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return set()
    if not isinstance(manifest, dict) or manifest.get("settings") != settings \
            or manifest.get("templates") != source_digests():
        return set()
    return set(manifest["templates"])


def use_precompiled(env: jinja2.Environment, theme_dirs: list[Path],
                    folder: Path = COMPILED) -> bool:
    """Let ``env`` (over ``theme_dirs`` then the plugin's templates) import the compiled
    web templates that no theme folder overrides. True when there were any to use."""
    import jinja2

    settings = settings_of(env)
    if settings is None or not isinstance(env.loader, jinja2.FileSystemLoader):
        return False
    names = {n for n in _usable(folder, settings)
             if not any((d / n).exists() for d in theme_dirs)}
    if not names:
        return False
    env.loader = _loader_class()(env.loader.searchpath, names, jinja2.ModuleLoader(str(folder)))
    return True


def uses_precompiled(env: jinja2.Environment) -> bool:
    """Whether ``env`` imports compiled templates (:func:`use_precompiled` said yes)."""
    return isinstance(env.loader, _loader_class())


@lru_cache(maxsize=1)
def _loader_class() -> type:
    """The loader, made on first use (Jinja is imported only by commands that need it)."""
    import jinja2

    class Loader(jinja2.FileSystemLoader):
        """A folder loader that imports the listed templates' compiled modules instead."""

        def __init__(self, searchpath: list[str], names: set[str],
                     modules: jinja2.ModuleLoader):
            super().__init__(searchpath)
            self.names, self.modules = names, modules

        def load(self, environment: jinja2.Environment, name: str,
                 globals: Any = None) -> jinja2.Template:
            if name in self.names:
                return self.modules.load(environment, name, globals)
            return super().load(environment, name, globals)

    return Loader


def compile_all(env: jinja2.Environment, folder: Path = COMPILED) -> None:
    """Compile the plugin's web templates with ``env`` into ``folder`` (replaced)."""
    settings = settings_of(env)
    if settings is None:
        raise ValueError("these Jinja settings cannot be compiled ahead of time")
    shutil.rmtree(folder, ignore_errors=True)
    env.compile_templates(str(folder), filter_func=lambda n: n.startswith(PREFIX), zip=None,
                          ignore_errors=False)
    manifest = {"settings": settings, "templates": source_digests()}
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")


def plain_environment() -> jinja2.Environment:
    """The web build's environment without a site: the settings and filters it has."""
    from storykit import Theme

    return Theme(name="default").environment(None, [assets.TEMPLATES])


if __name__ == "__main__":  # pragma: no cover - ./dev templates
    compile_all(plain_environment())
    print(f"compiled {len(source_digests())} templates into {COMPILED}")
