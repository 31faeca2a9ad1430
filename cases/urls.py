"""Brand-side case pages, mounted under /b/<brand_slug>/ (namespace "cases")."""

from cases.views import dashboard, detail, filing, lists

app_name = "cases"

urlpatterns = [*dashboard.urlpatterns, *lists.urlpatterns, *detail.urlpatterns, *filing.urlpatterns]
