"""The app's areas, one Flask blueprint each (registered in storykit.web.app.BLUEPRINTS)."""
