"""Admin of the investigations app: test purchases and seller networks register their model admins here."""

# Referral dossiers: the export page on the admin site and the list of exports.
from investigations import (
    admin_dossiers,  # noqa: F401
    admin_networks,  # noqa: F401  (the network pages, actions and the seller's link)
)
