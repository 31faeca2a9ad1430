"""Template tags every app may use (inline SVG charts)."""
