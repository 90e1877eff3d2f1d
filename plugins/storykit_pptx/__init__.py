"""storykit_pptx: an editable PowerPoint deck with speaker notes (format ``pptx``)."""
