"""Detail pages of the brand portal."""

urlpatterns: list = []
