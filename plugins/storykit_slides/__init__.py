"""storykit_slides: an offline HTML slide deck (``slides``), its PDF (``slides-pdf``) and a notes handout (``handout``)."""
