"""The core: what every app builds on and that knows no app. Tenancy scopes, the audit trail, the custom
user and staff sign-in, the admin site and its shared bases, state transitions, locks, private files,
uploads, pagination, CSV export, the REST API's shared parts, and the chart template tags.

Nothing here imports a domain app (`brands`, `listings`, `cases`) or an edge app (`integrations`,
`reports`): import-linter checks it (`make lint`)."""
