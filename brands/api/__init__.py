"""The brand API: the IP rights endpoints, and the base every brand endpoint builds on (API tokens bound to a
membership, their authentication, the role permission, throttles, `viewsets.BrandScopedMixin`). It is
also the Django app of the tokens (label `api`)."""
