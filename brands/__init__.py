"""The brands app (domain): brands, the tenants; their members and roles, invitations, the IP rights registry
and its documents, and the MarketSafe program (applications, memberships, the nightly accuracy check).
It knows nothing of cases or listings."""
