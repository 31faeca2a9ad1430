"""Lists pages of the brand portal."""

urlpatterns: list = []
