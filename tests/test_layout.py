"""What each part may import, read from the code's imports (ast), not kept by hand.

- Plugins under ``plugins/`` use only storykit's public API: the package root
  (``storykit.__all__``) and the renderer kit (``storykit.kit.__all__``), and never a private
  ``_name`` of storykit or of another plugin.
- The core (``storykit/`` outside ``storykit/web/``) imports nothing from the browser app or
  from any plugin, and names neither in the modules it loads.
- No import loops: imports that run when a module loads (``TYPE_CHECKING`` ones included)
  never come back to where they started. Imports inside functions are left out: they run
  later, on purpose (start-up time), when every module is loaded.
"""

from __future__ import annotations

import ast
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

import storykit
import storykit.kit

ROOT = Path(__file__).resolve().parent.parent
CORE = ROOT / "storykit"
APP = CORE / "web"
PLUGINS = ROOT / "plugins"
PLUGIN_PACKAGES = sorted(p.name for p in PLUGINS.iterdir() if (p / "__init__.py").is_file())
PUBLIC_MODULES = {"storykit": set(storykit.__all__), "storykit.kit": set(storykit.kit.__all__)}


@dataclass(frozen=True)
class Import:
    """One import: the module asked for (absolute), the names taken from it, where it is."""

    module: str
    names: tuple[str, ...]
    line: int
    when: str  # "module", "typing" (inside ``if TYPE_CHECKING``) or "function"


def module_name(path: Path) -> str:
    base = ROOT if path.is_relative_to(CORE) else PLUGINS
    parts = list(path.relative_to(base).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(source: str, name: str, is_package: bool) -> list[Import]:
    """Every import in ``source`` (the module ``name``), relative ones made absolute."""
    package = name if is_package else name.rpartition(".")[0]
    found: list[Import] = []

    def visit(node: ast.AST, when: str) -> None:
        for child in ast.iter_child_nodes(node):
            inner = when
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                inner = "function"
            elif isinstance(child, ast.If) and when == "module" \
                    and "TYPE_CHECKING" in ast.unparse(child.test):
                inner = "typing"
            if isinstance(child, ast.Import):
                found.extend(Import(a.name, (), child.lineno, inner) for a in child.names)
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    parts = package.split(".")
                    parts = parts[:len(parts) - child.level + 1]
                    module = ".".join(parts + ([child.module] if child.module else []))
                else:
                    module = child.module or ""
                found.append(Import(module, tuple(a.name for a in child.names), child.lineno,
                                    inner))
            visit(child, inner)

    visit(ast.parse(source), "module")
    return found


def sources(folder: Path, skip: Path | None = None) -> list[Path]:
    return sorted(p for p in folder.rglob("*.py")
                  if "__pycache__" not in p.parts and (skip is None or not p.is_relative_to(skip)))


# --- plugins use the public API only ---------------------------------------------------------

def plugin_violations(source: str, name: str, is_package: bool = False) -> list[str]:
    """What a plugin module imports that it may not: storykit names outside the public API,
    storykit modules other than the root and the kit, and private names of anything that is
    not its own package."""
    own = name.split(".")[0]
    problems = []
    for imp in imports_of(source, name, is_package):
        top = imp.module.split(".")[0]
        where = f"{name}:{imp.line}"
        if top == "storykit":
            public = PUBLIC_MODULES.get(imp.module)
            if public is None:
                problems.append(f"{where} imports {imp.module} (use storykit or storykit.kit)")
                continue
            problems += [f"{where} imports {n} from {imp.module}, which is not public"
                         for n in imp.names if n not in public]
        elif top != own:
            problems += [f"{where} imports the private name {n} from {imp.module}"
                         for n in imp.names if n.startswith("_") and not n.startswith("__")]
    tree = ast.parse(source)
    problems += [f"{name}:{node.lineno} uses storykit.{node.attr}, which is not public"
                 for node in ast.walk(tree)
                 if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                 and node.value.id == "storykit" and node.attr not in PUBLIC_MODULES["storykit"]]
    return problems


def test_plugins_import_only_the_public_api():
    problems = []
    for path in sources(PLUGINS):
        problems += plugin_violations(path.read_text(encoding="utf-8"), module_name(path),
                                      path.name == "__init__.py")
    assert problems == []


@pytest.mark.parametrize(("code", "complaint"), [
    ("from storykit.fsio import atomic_write", "imports storykit.fsio"),
    ("from storykit.render import Job", "imports storykit.render"),
    ("import storykit.images", "imports storykit.images"),
    ("from storykit import consent", "imports consent from storykit, which is not public"),
    ("from storykit.kit import _HOMES", "imports _HOMES from storykit.kit, which is not public"),
    ("from storykit_slides.plan.blocks import _Tree", "the private name _Tree"),
    ("import storykit\nstorykit.slideplan.plan_deck", "uses storykit.slideplan"),
])
def test_the_plugin_check_catches_each_way_round_the_api(code, complaint):
    found = plugin_violations(code, "storykit_example.build")
    assert len(found) == 1 and complaint in found[0]


def test_the_plugin_check_allows_the_public_api():
    code = textwrap.dedent("""
        from storykit import Artefact, Format, Job, hookimpl
        from storykit.kit import atomic_write, nice_date, picture_path
        from storykit_slides.plan import plan_deck
        from ._helpers import _private_to_this_plugin
    """)
    assert plugin_violations(code, "storykit_example.build") == []


def test_every_kit_name_is_there():
    for name in storykit.kit.__all__:
        assert getattr(storykit.kit, name) is not None, name
    for name in storykit.__all__:
        assert getattr(storykit, name) is not None, name


def test_a_job_carries_no_site(tmp_path):
    """Renderers get capabilities, not the site (they could reach stories through it)."""
    from conftest import BASIC_TOML

    from storykit import Site
    from storykit.render import make_job

    (tmp_path / "stories").mkdir()
    (tmp_path / "storykit.toml").write_text(BASIC_TOML, encoding="utf-8")
    site = Site.open(tmp_path)
    fmt = site.formats()["web"]
    job = make_job(site, fmt, "board", [], tmp_path / "out", on=storykit.kit.today())
    reachable = [*vars(job).values(), *vars(job.services).values()]
    assert not any(isinstance(value, Site) for value in reachable)
    assert not hasattr(job, "_site")
    assert job.markdown("*hi*") == "<p><em>hi</em></p>"


# --- the core knows no app and no plugin ---------------------------------------------------------

def core_violations(source: str, name: str, is_package: bool = False) -> list[str]:
    """Imports of the app or a plugin in a core module, and module names of either in its
    strings (a list of modules to load, as ``storykit.plugins`` once had)."""
    banned = ("storykit.web", *PLUGIN_PACKAGES)

    def is_banned(module: str) -> bool:
        return any(module == b or module.startswith(b + ".") for b in banned)

    problems = []
    for imp in imports_of(source, name, is_package):
        targets = [imp.module] + [f"{imp.module}.{n}" for n in imp.names]
        if any(is_banned(t) for t in targets):
            problems.append(f"{name}:{imp.line} imports {imp.module} {list(imp.names)}")
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                and is_banned(node.value.strip()):
            problems.append(f"{name}:{node.lineno} names the module {node.value!r}")
    return problems


def test_the_core_imports_nothing_from_the_app_or_the_plugins():
    problems = []
    for path in sources(CORE, skip=APP):
        problems += core_violations(path.read_text(encoding="utf-8"), module_name(path),
                                    path.name == "__init__.py")
    assert problems == []


@pytest.mark.parametrize(("code", "complaint"), [
    ("from .web import commands", "imports storykit.web"),
    ("from . import web", "imports storykit"),
    ("def f():\n    from storykit.web.app import create_app", "imports storykit.web.app"),
    ("import storykit_web.build", "imports storykit_web.build"),
    ("DEFAULT_PLUGINS = ('storykit.default_checks', 'storykit.web.commands')",
     "names the module 'storykit.web.commands'"),
])
def test_the_core_check_catches_each_way_to_the_app(code, complaint):
    found = core_violations(code, "storykit.example")
    assert len(found) == 1 and complaint in found[0]


def test_the_app_registers_its_commands_like_any_plugin():
    from storykit.plugins import DEFAULT_PLUGINS, installed_packages

    assert not [p for p in DEFAULT_PLUGINS if p.startswith("storykit.web")]
    _version, packages = installed_packages()
    assert ("storykit_app", "storykit.web.commands") in {(n, v) for n, v, _d, _ver in packages}


# --- no import loops -------------------------------------------------------------------------------

def import_graph() -> dict[str, set[str]]:
    """Module -> the project's modules it imports when it loads (not inside functions).
    A module's own parent packages are left out: Python always loads them first."""
    paths = {module_name(p): p for p in [*sources(CORE), *sources(PLUGINS)]}
    graph = {}
    for name, path in paths.items():
        parents = {".".join(name.split(".")[:i]) for i in range(1, name.count(".") + 1)}
        targets = set()
        for imp in imports_of(path.read_text(encoding="utf-8"), name, path.name == "__init__.py"):
            if imp.when == "function":
                continue
            targets |= {t for t in [imp.module, *(f"{imp.module}.{n}" for n in imp.names)]
                        if t in paths}
        graph[name] = targets - parents - {name}
    return graph


def loops(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_there_are_no_import_loops():
    assert loops(import_graph()) == []


def test_the_loop_finder_finds_a_loop_through_type_checking_imports():
    build = imports_of("from . import pages\nfrom .stamp import Stamp\n", "pkg.build", False)
    stamp = imports_of("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                       "    from .build import Builder\n", "pkg.stamp", False)
    assert {i.module for i in build} == {"pkg", "pkg.stamp"}
    assert [(i.module, i.when) for i in stamp if i.module.startswith("pkg")] == [
        ("pkg.build", "typing")]
    graph = {"pkg.build": {"pkg.stamp"}, "pkg.stamp": {"pkg.build"}, "pkg.pages": set()}
    assert loops(graph) == [["pkg.build", "pkg.stamp"]]
