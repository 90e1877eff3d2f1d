"""storykit_web: the public website of consented stories (format ``web``, ``storykit build``)."""
