"""IP rights registry endpoints, mounted under /api/v1/ (namespace "brands-api")."""

from rest_framework.routers import SimpleRouter

from brands.api import views

app_name = "brands-api"

router = SimpleRouter(use_regex_path=False)
router.register("ip-rights", views.IPRightViewSet, basename="ip-right")

urlpatterns = router.urls
