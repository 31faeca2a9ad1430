"""Brand pages about cases, one module per area; each module defines its own `urlpatterns`."""
