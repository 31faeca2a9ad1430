"""Pages of the investigations app."""

app_name = "investigations"

urlpatterns: list = []
