"""Development tooling, kept outside the project package: nothing here is deployed or imported by the portal.

`devtools.devenv` gives every command on a developer's machine or in CI a real PostgreSQL and a real
Redis (embedded ones unless DATABASE_URL / REDIS_URL are set) and runs the portal's development
processes (`make run`, `make test`).
"""
