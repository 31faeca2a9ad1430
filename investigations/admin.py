"""Admin of the investigations app: test purchases and seller networks register their model admins here."""
