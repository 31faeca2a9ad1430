"""Case endpoints, mounted under /api/v1/ (namespace "cases-api")."""

from rest_framework.routers import SimpleRouter

from cases.api import views

app_name = "cases-api"

router = SimpleRouter(use_regex_path=False)
router.register("cases", views.CaseViewSet, basename="case")
router.register("case-items", views.CaseItemViewSet, basename="item")
router.register("case-imports", views.CaseImportViewSet, basename="case-import")

urlpatterns = router.urls
