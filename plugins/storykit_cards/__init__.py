"""storykit_cards: social-media quote cards as PNG with alt-text files (format ``card``)."""
