"""Loading plugins and calling their hooks, with errors that name the plugin.

Order (as in Datasette): storykit's own built-in plugins, then installed packages registering
in the ``storykit`` entry-point group (``STORYKIT_LOAD_PLUGINS=a,b`` restricts them to an
allow-list; an empty value loads none), then ``*.py`` files in the site's ``plugins/`` folder.
pluggy calls later registrations first, so a site plugin can override a package, which can
override a built-in; ``tryfirst``/``trylast`` on an implementation change that.

Finding the installed packages with importlib.metadata costs about 20 ms of every command's
start-up, so a site keeps what was found in ``instance/cache/plugins.json``, reused while
every ``sys.path`` folder is unchanged: installing, upgrading or removing a package adds or
removes a ``*.dist-info`` folder there, which changes the folder's modification time.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import re
import sys
from dataclasses import dataclass
from functools import wraps
from importlib.machinery import PathFinder as _PathFinder
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import pluggy

from . import hookspecs
from .errors import PluginError, StorykitError
from .fsio import atomic_write, make_dirs, settled_before

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Collection

    from .site import Site

ENTRY_POINT_GROUP = "storykit"
ALLOW_ENV = "STORYKIT_LOAD_PLUGINS"
#: Built-in features of the core, written as plugins against the same hooks. The browser
#: app is not among them: it registers its commands through the entry point like any package.
DEFAULT_PLUGINS = (
    "storykit.default_checks",
    "storykit.default_privacy",
    "storykit.commands",
    "storykit.default_packs",
    "storykit.default_themes",
    "storykit.default_jobs",
    "storykit.default_outcomes",
)
#: Hooks whose failures are reported but do not stop the work in hand.
EVENT_HOOKS = frozenset({"after_render", "after_withdraw", "after_status_change",
                         "after_consent_change", "after_consent_sweep", "after_outcome_change"})


@dataclass(frozen=True)
class PluginInfo:
    name: str
    version: str
    source: str  # "built-in", "package" or "site folder"
    hooks: tuple[str, ...]


class Plugins:
    """A site's plugin manager and the calls storykit makes through it."""

    def __init__(self, site: Site | None = None):
        self.site = site
        self.pm = pluggy.PluginManager("storykit")
        self.pm.add_hookspecs(hookspecs)
        self.sources: dict[str, tuple[str, str]] = {}  # name -> (source, version)
        self.warnings: list[str] = []
        cache = site.instance / "cache" / "plugins.json" if site is not None else None
        version, packages = installed_packages(cache)
        self._load_builtins(version)
        self._load_entry_points(packages)
        if site is not None:
            self._load_folder(site.config.path("plugins"))

    # --- loading ---------------------------------------------------------------------------

    def _load_builtins(self, version: str) -> None:
        for name in DEFAULT_PLUGINS:
            self.register(importlib.import_module(name), name, "built-in", version)

    def _load_entry_points(self, packages: list[Package]) -> None:
        allow = os.environ.get(ALLOW_ENV)
        allowed = None if allow is None else {a.strip() for a in allow.split(",") if a.strip()}
        for name, value, dist, version in packages:
            if allowed is not None and name not in allowed and dist not in allowed:
                continue
            if self.pm.has_plugin(name):
                continue
            try:
                module = load_entry_point(value)
            except Exception as exc:  # noqa: BLE001 - report which plugin broke
                raise PluginError(name, "import", exc) from exc
            self.register(module, name, "package", version)

    def _load_folder(self, folder: Path) -> None:
        if not folder.is_dir():
            return
        for path in sorted(folder.glob("*.py")):
            name = path.stem
            if name.startswith("_") or self.pm.has_plugin(name):
                continue
            module = _import_file(path, name)
            self.register(module, name, "site folder", getattr(module, "__version__", "site"))

    def register(self, plugin: Any, name: str, source: str = "built-in",
                 version: str = "") -> None:
        """Register ``plugin`` under ``name`` (also used by tests to add one temporarily)."""
        self.pm.register(plugin, name=name)
        self.sources[name] = (source, version)
        for caller in self.pm.get_hookcallers(plugin) or []:
            for impl in caller.get_hookimpls():
                if impl.plugin is plugin and not getattr(impl.function, "_storykit_wrapped", 0):
                    impl.function = _guard(impl.function, name, caller.name)

    def unregister(self, name: str) -> None:
        self.pm.unregister(name=name)
        self.sources.pop(name, None)

    # --- introspection ---------------------------------------------------------------------

    def info(self) -> list[PluginInfo]:
        out = []
        for name, plugin in self.pm.list_name_plugin():
            source, version = self.sources.get(name, ("unknown", ""))
            hooks = tuple(sorted(c.name for c in self.pm.get_hookcallers(plugin) or []))
            out.append(PluginInfo(name, version, source, hooks))
        order = {"built-in": 0, "package": 1, "site folder": 2}
        return sorted(out, key=lambda p: (order.get(p.source, 3), p.name))

    # --- calls -----------------------------------------------------------------------------

    def call(self, hook: str, **kwargs: Any) -> list[Any]:
        """Call ``hook``; results of every implementation, ``None`` results dropped."""
        caller = getattr(self.pm.hook, hook)
        if hook in EVENT_HOOKS:
            return self._call_events(caller, hook, kwargs)
        return [r for r in caller(**kwargs) if r is not None]

    def _call_events(self, caller, hook: str, kwargs: dict[str, Any]) -> list[Any]:
        results = []
        for impl in reversed(caller.get_hookimpls()):
            args = {k: v for k, v in kwargs.items() if k in impl.argnames}
            try:
                result = impl.function(**args)
            except PluginError as exc:
                self.warnings.append(str(exc))
                continue
            if result is not None:
                results.append(result)
        return results

    def flat(self, hook: str, **kwargs: Any) -> list[Any]:
        """Call a hook whose implementations return lists, and join them."""
        return [item for result in self.call(hook, **kwargs) for item in result]

    def formats(self) -> dict[str, Any]:
        """Formats by name; the first plugin in call order (site, package, built-in) wins."""
        from dataclasses import replace

        found: dict[str, Any] = {}
        for impl in reversed(self.pm.hook.register_formats.get_hookimpls()):
            args = {"site": self.site} if "site" in impl.argnames else {}
            for fmt in impl.function(**args) or []:
                found.setdefault(fmt.name, replace(fmt, plugin=impl.plugin_name))
        return found

    def commands(self) -> dict[str, Any]:
        import click

        group = click.Group()
        self.call("register_commands", cli=group)
        return dict(group.commands)

    def story_findings(self, story, on, skip: str | Collection[str] | None = None):
        """Every plugin's findings for ``story`` (but those of the plugins named in
        ``skip``)."""
        for _name, found in self.story_findings_by_plugin(story, on, skip=skip):
            yield from found

    def story_findings_by_plugin(self, story, on, skip: str | Collection[str] | None = None,
                                 given: dict[str, list] | None = None):
        """``(plugin name, its findings)`` for each ``story_checks`` plugin in order (but
        those named in ``skip``); a plugin named in ``given`` is not asked again (its
        findings are those)."""
        from .checks import WARNING, Finding

        skipped = {skip} if isinstance(skip, str) else set(skip or ())
        for impl in reversed(self.pm.hook.story_checks.get_hookimpls()):
            name = impl.plugin_name
            if name in skipped:
                continue
            if given is not None and name in given:
                yield name, given[name]
                continue
            args = {"site": self.site, "story": story, "on": on}
            try:
                found = impl.function(**{k: v for k, v in args.items() if k in impl.argnames})
            except PluginError as exc:
                found = [Finding(WARNING, str(exc), None, None, story.id, "plugin_error")]
            yield name, list(found or [])

    def check_config(self) -> None:
        """Ask each plugin to validate its settings; raise one error listing every problem."""
        problems: list[str] = []
        for impl in self.pm.hook.check_plugin_config.get_hookimpls():
            found = impl.function(**({"site": self.site} if "site" in impl.argnames else {}))
            problems += [f"[plugins.{impl.plugin_name}] {p}" for p in found or []]
        if problems:
            raise StorykitError("storykit.toml: " + "\n".join(problems))


def _guard(function, plugin: str, hook: str):
    """Wrap a hook implementation so its failures name the plugin."""

    @wraps(function)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except (PluginError, StorykitError):
            raise
        except Exception as exc:  # noqa: BLE001
            raise PluginError(plugin, hook, exc) from exc

    guarded._storykit_wrapped = 1  # type: ignore[attr-defined]
    return guarded


def _import_file(path: Path, name: str) -> ModuleType:
    import importlib.util

    module_name = f"storykit_site_plugins.{name}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:  # pragma: no cover
        raise StorykitError(f"cannot load plugin file {path.name}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # noqa: BLE001
        sys.modules.pop(module_name, None)
        raise PluginError(name, "import", exc) from exc
    return module


# --- installed packages ---------------------------------------------------------------------

#: An installed plugin: entry-point name, its value ("module" or "module:attr"), the
#: distribution providing it, and that distribution's version.
Package = tuple[str, str, str, str]
CACHE_FORMAT = 1


def installed_packages(cache: Path | None = None) -> tuple[str, list[Package]]:
    """storykit's version and the packages in the ``storykit`` entry-point group, from
    ``cache`` while the ``sys.path`` folders are as they were when it was written."""
    if cache is None or (key := _search_path_key()) is None:
        return _scan()
    found = _read_cache(cache, key)
    if found is None:
        found = _scan()
        _write_cache(cache, key, found)
    return found


def _search_path_key() -> list | None:
    """Each ``sys.path`` entry and its modification time, or None while one of them changed
    in the last two seconds (as the parse cache, so an install in the same clock tick as the
    scan is never missed)."""
    settled = settled_before()
    entries = []
    for entry in sys.path:
        path = entry or os.getcwd()
        try:
            mtime: int | None = os.stat(path).st_mtime_ns
        except OSError:
            mtime = None
        if mtime is not None and mtime >= settled:
            return None
        entries.append([path, mtime])
    return [CACHE_FORMAT, sys.version, entries]


def _scan() -> tuple[str, list[Package]]:
    found = _scan_folders()
    return found if found is not None else _scan_with_metadata()


def _scan_with_metadata() -> tuple[str, list[Package]]:
    import importlib.metadata as metadata  # about 20 ms, with the email package it uses

    try:
        version = metadata.version("storykit")
    except metadata.PackageNotFoundError:  # run from a checkout that was never installed
        version = "unknown"
    packages = [(ep.name, ep.value, ep.dist.name if ep.dist else ep.name,
                 ep.dist.version if ep.dist else "unknown")
                for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)]
    return version, packages


def _scan_folders() -> tuple[str, list[Package]] | None:
    """What :func:`_scan_with_metadata` finds, read straight from the ``*.dist-info`` and
    ``*.egg-info`` folders of the ``sys.path`` folders as importlib.metadata reads them
    (the first distribution of each name, in ``sys.path`` order), without importing it: a
    build of a site with no instance folder yet saves about 15 ms. None when importlib.metadata
    might find distributions some other way (another finder, a zip file, an ``.egg``)."""
    if any(getattr(finder, "find_distributions", None) is not None
           and finder is not _PathFinder for finder in sys.meta_path):
        return None
    seen: set[str] = set()
    version = None
    packages: list[Package] = []
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except FileNotFoundError:
            continue
        except OSError:
            return None  # a zip file, or a folder that cannot be read
        if os.path.basename(entry).lower().endswith(".egg"):
            return None
        for name in names:
            low = name.lower()
            if not low.endswith((".dist-info", ".egg-info")):
                continue
            key = _normal_name(low.rpartition(".")[0].partition("-")[0])
            if key in seen:
                continue
            seen.add(key)
            info = os.path.join(entry or ".", name)
            points = _entry_points(info)
            if key != "storykit" and not points:
                continue
            meta = _name_and_version(info)
            if meta is None:
                return None
            if key == "storykit":
                version = meta[1]
            packages += [(n, v, *meta) for n, v in points]
    return version or "unknown", packages


def _normal_name(name: str) -> str:
    """A distribution's name as importlib.metadata compares them (PEP 503, ``_`` for ``-``)."""
    return re.sub(r"[-_.]+", "-", name).lower().replace("-", "_")


def _entry_points(info: str) -> list[tuple[str, str]]:
    """The (name, value) pairs of the ``storykit`` group in a distribution's
    ``entry_points.txt``, read as importlib.metadata reads the file."""
    try:
        with open(os.path.join(info, "entry_points.txt"), encoding="utf-8") as f:
            text = f.read()
    except (FileNotFoundError, NotADirectoryError):
        return []
    group, found = None, []
    for line in map(str.strip, text.splitlines()):
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            group = line.strip("[]")
        elif group == ENTRY_POINT_GROUP:
            name, _, value = line.partition("=")
            found.append((name.strip(), value.strip()))
    return found


def _name_and_version(info: str) -> tuple[str, str] | None:
    """The ``Name`` and ``Version`` headers of a distribution's metadata; None when there
    is no such file, or it lacks either, or writes one unusually."""
    for file in ("METADATA", "PKG-INFO", ""):
        try:
            with open(os.path.join(info, file) if file else info, encoding="utf-8") as f:
                head = f.read(65536).split("\n\n", 1)[0]
            break
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            continue
    else:
        return None
    fields: dict[str, str] = {}
    for line in head.splitlines():
        key, colon, value = line.partition(":")
        if colon and key.lower() in ("name", "version") and key.lower() not in fields:
            fields[key.lower()] = value.strip()
        elif line[:1] in (" ", "\t") and fields:
            return None  # a folded header: leave it to the email parser
    if "name" not in fields or "version" not in fields:
        return None
    return fields["name"], fields["version"]


def _read_cache(cache: Path, key: list) -> tuple[str, list[Package]] | None:
    try:
        data = json.loads(cache.read_bytes())
        if data["key"] != key:
            return None
        packages = [(str(n), str(v), str(d), str(ver)) for n, v, d, ver in data["packages"]]
        return str(data["storykit"]), packages
    except (OSError, ValueError, KeyError, TypeError):
        return None  # missing, unreadable or from another version: scan again


def _write_cache(cache: Path, key: list, found: tuple[str, list[Package]]) -> None:
    version, packages = found
    data = json.dumps({"key": key, "storykit": version, "packages": packages})
    with contextlib.suppress(StorykitError):  # a cache that can't be written is just slower
        make_dirs(cache.parent)
        atomic_write(cache, data, mode=0o600)


def load_entry_point(value: str) -> Any:
    """The object an entry point names: ``module``, or ``module:attr.attr`` (any
    ``[extras]`` ignored), as ``importlib.metadata.EntryPoint.load`` reads it."""
    module_name, _, attrs = value.split("[", 1)[0].partition(":")
    found: Any = importlib.import_module(module_name.strip())
    for attr in filter(None, attrs.strip().split(".")):
        found = getattr(found, attr)
    return found


def load_plugins(site: Site | None = None) -> Plugins:
    plugins = Plugins(site)
    if site is not None:
        plugins.check_config()
    return plugins
