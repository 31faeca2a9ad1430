"""Admin of the investigations app: test purchases and seller networks register their model admins here."""

from investigations import admin_networks  # noqa: F401  (the network pages, actions and the seller's link)
