"""The REST API's foundation (app label `api`): tokens bound to brand memberships, authentication, the
role permission, errors, throttles, keyset pagination, the /api/v1/ root, the schema and docs, and the
portal pages for tokens. It sits above `brands` (a token is bound to a membership) and below each app's
`api/` package, which builds its endpoints on `viewsets.BrandScopedMixin`."""
