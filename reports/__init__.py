"""Staff reports: pages for moderation leads and association staff built from the domain apps' selectors."""
