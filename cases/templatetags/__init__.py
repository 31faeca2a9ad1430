"""Template tags of the case pages."""
