"""The renderer kit: everything a renderer or builder legitimately needs, in one documented
place (docs/plugins.md, "Writing a renderer").

First-party plugins import only from here and from the package root (``from storykit import
Format, hookimpl``); a meta-test (tests/test_layout.py) fails when a module under
``plugins/`` reaches for anything else of storykit's, so third-party plugins can rely on the
same surface. Names are imported on first use (PEP 562): importing the kit is cheap, and
WeasyPrint or Pillow load only when a renderer asks for a name that needs them.

- Writing outputs safely: :func:`atomic_write`, :func:`replace_file` (with a :class:`FilePool`
  of files made ahead, for thousands of pages), :func:`write_atomic`.
- Pictures: :func:`picture_path` (the media rule, for a view's pictures), :func:`media_file`,
  :func:`prepare_image`, :func:`prepare_variants`, :func:`clean_copy` and
  :func:`read_picture` (a clean copy made once from a picture's bytes), :func:`image_data_uri`,
  :func:`image_data_uri_and_size`, :func:`image_format`, :func:`prepare_images` (for PDFs).
- Dates and marks: :func:`nice_date`, :func:`today`, :data:`DRAFT_MARK` (``Job.draft_mark``
  and ``StoryView.draft_mark`` give the words to show); :func:`parse_date` and
  :func:`in_range` read dates from settings safely (:class:`DateError` in words).
- Safe PDFs: :func:`html_to_pdf` (``max_pages``: :class:`TooManyPages`), :func:`run_limited`,
  :data:`VARIANTS`, :data:`DEFAULT_VARIANT`, :func:`check_variant`.
- Theme colours and contrast: :func:`is_hex`, :func:`long_hex`, :func:`parse_hex`,
  :func:`contrast_ratio`, :func:`relative_luminance`, :func:`shown_ratio`, :data:`AA_TEXT`.
- Slugs and file names: :func:`slugify`, :func:`file_stem`, :data:`SLUG_RE`.
- Markdown: :func:`plain_text`, :func:`markdown_inline`, :func:`prepare_markdown`
  (``Job.markdown`` converts with the site's extensions).
- A progress bar on the terminal for long commands: :func:`terminal_progress`.
- Builders of whole publications (the web site): :func:`publication_set`,
  :class:`PublicationSet`, :class:`Publishable`, :class:`PublishedPage`, :func:`site_info`,
  and the cache helpers :func:`read_cache`, :func:`write_cache`, :func:`stat_key`,
  :func:`settled_before`, :func:`locked`, and :data:`TEMP_PREFIX` (what a half-written file
  is called until it is renamed into place).
- Background jobs and publishing (docs/publishing.md): :class:`JobKind`, :class:`JobContext`
  (for the ``register_job_kinds`` hook), :data:`SITE_BUILD`, :func:`queue_site_build`,
  :func:`publish_folder`, :func:`deliver` (tell the publish target), :class:`PublishTarget`
  and :class:`Delivery` (for the ``register_publish_targets`` hook).
- Pages of the public website besides stories (the ``web_pages`` hook): :class:`WebPage`,
  :class:`WebSection`, :class:`WebItem`, :class:`WebLink`, :class:`SitePageError`; done
  outcomes as the public may see them ("You said, we did"): :func:`done_outcomes`,
  :class:`PublicOutcome`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from .colours import (
        AA_TEXT,
        contrast_ratio,
        is_hex,
        long_hex,
        parse_hex,
        relative_luminance,
        shown_ratio,
    )
    from .consent import DRAFT_MARK, ViewImage
    from .dates import DateError, in_range, nice_date, parse_date, today
    from .errors import NotSavedError
    from .fsio import (
        TEMP_PREFIX,
        FilePool,
        LockTimeout,
        atomic_write,
        locked,
        read_cache,
        replace_file,
        settled_before,
        stat_key,
        write_atomic,
        write_cache,
    )
    from .images import (
        ImageError,
        clean_copy,
        image_data_uri,
        image_data_uri_and_size,
        image_format,
        prepare_image,
        prepare_variants,
        read_picture,
    )
    from .jobs import JobContext, JobKind
    from .markup import MarkdownTooLong, markdown_inline, plain_text, prepare_markdown
    from .media import MediaError, media_file, picture_path
    from .outcomes.public import PublicOutcome, done_outcomes
    from .pdf_variants import DEFAULT_VARIANT, VARIANTS
    from .progress import terminal_progress
    from .publication import (
        PublicationSet,
        Publishable,
        PublishedPage,
        code_fingerprint,
        publication_set,
        stories_fingerprint,
    )
    from .publishing import (
        SITE_BUILD,
        Delivery,
        PublishTarget,
        deliver,
        publish_folder,
        queue_site_build,
    )
    from .render import SiteInfo, site_info
    from .sitepages import SitePageError, WebItem, WebLink, WebPage, WebSection
    from .slugs import SLUG_RE, file_stem, slugify
    from .themes import ThemeError
    from .weasy import (
        RenderBlocked,
        RenderLimitExceeded,
        TooManyPages,
        check_variant,
        html_to_pdf,
        prepare_images,
        run_limited,
    )

#: Where each name lives (its home module, relative to the storykit package).
_HOMES = {
    ".colours": ("AA_TEXT", "contrast_ratio", "is_hex", "long_hex", "parse_hex",
                 "relative_luminance", "shown_ratio"),
    ".consent": ("DRAFT_MARK", "ViewImage"),
    ".dates": ("DateError", "in_range", "nice_date", "parse_date", "today"),
    ".errors": ("NotSavedError",),
    ".fsio": ("TEMP_PREFIX", "FilePool", "LockTimeout", "atomic_write", "locked", "read_cache",
              "replace_file", "settled_before", "stat_key", "write_atomic", "write_cache"),
    ".images": ("ImageError", "clean_copy", "image_data_uri", "image_data_uri_and_size",
                "image_format", "prepare_image", "prepare_variants", "read_picture"),
    ".jobs": ("JobContext", "JobKind"),
    ".markup": ("MarkdownTooLong", "markdown_inline", "plain_text", "prepare_markdown"),
    ".media": ("MediaError", "media_file", "picture_path"),
    ".pdf_variants": ("DEFAULT_VARIANT", "VARIANTS"),
    ".progress": ("terminal_progress",),
    ".publication": ("Publishable", "PublicationSet", "PublishedPage", "code_fingerprint",
                     "publication_set", "stories_fingerprint"),
    ".publishing": ("Delivery", "PublishTarget", "SITE_BUILD", "deliver", "publish_folder",
                    "queue_site_build"),
    ".outcomes.public": ("PublicOutcome", "done_outcomes"),
    ".render": ("SiteInfo", "site_info"),
    ".sitepages": ("SitePageError", "WebItem", "WebLink", "WebPage", "WebSection"),
    ".slugs": ("SLUG_RE", "file_stem", "slugify"),
    ".themes": ("ThemeError",),
    ".weasy": ("RenderBlocked", "RenderLimitExceeded", "TooManyPages", "check_variant",
               "html_to_pdf", "prepare_images", "run_limited"),
}
_HOME_OF = {name: module for module, names in _HOMES.items() for name in names}

__all__ = [
    "AA_TEXT", "DEFAULT_VARIANT", "DRAFT_MARK", "DateError", "Delivery", "FilePool", "ImageError",
    "JobContext", "JobKind", "LockTimeout", "MarkdownTooLong", "MediaError", "NotSavedError",
    "PublicOutcome", "PublicationSet", "PublishTarget", "Publishable", "PublishedPage",
    "RenderBlocked", "SitePageError", "TooManyPages", "WebItem", "WebLink", "WebPage", "WebSection",
    "done_outcomes",
    "RenderLimitExceeded", "SITE_BUILD", "SLUG_RE", "SiteInfo", "TEMP_PREFIX", "ThemeError",
    "VARIANTS", "ViewImage", "atomic_write", "check_variant", "clean_copy", "code_fingerprint",
    "contrast_ratio", "deliver", "file_stem", "html_to_pdf", "image_data_uri",
    "image_data_uri_and_size", "image_format", "in_range", "is_hex", "locked", "long_hex",
    "markdown_inline", "media_file", "nice_date", "parse_date", "parse_hex", "picture_path",
    "plain_text", "prepare_image", "prepare_images", "prepare_markdown", "prepare_variants",
    "publication_set", "publish_folder", "queue_site_build", "read_cache", "read_picture",
    "relative_luminance", "replace_file", "run_limited", "settled_before", "shown_ratio",
    "site_info", "slugify", "stat_key", "stories_fingerprint", "terminal_progress", "today",
    "write_atomic", "write_cache",
]


def __getattr__(name: str) -> Any:
    """Import a name's home module the first time the name is asked for."""
    home = _HOME_OF.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home, "storykit"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
