"""The brand's REST endpoints of stay-down detection (namespace "detection-api")."""
