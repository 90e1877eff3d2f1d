"""storykit_pdf: accessible PDFs of stories (formats ``pdf`` and ``booklet``) with WeasyPrint."""
