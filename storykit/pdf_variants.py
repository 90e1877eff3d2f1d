"""The PDF variants storykit offers (a light module: settings checks need no WeasyPrint).

All of them are tagged (structure, alt text, language), so screen readers can use the PDF;
PDF/UA-1 is the default."""

VARIANTS = ("pdf/ua-1", "pdf/ua-2", "pdf/a-1a", "pdf/a-2a", "pdf/a-3a", "pdf/a-2b",
            "pdf/a-3b", "pdf/a-2u", "pdf/a-3u", "pdf/a-4u")
DEFAULT_VARIANT = "pdf/ua-1"
