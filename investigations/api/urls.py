"""Test purchases endpoints, mounted under /api/v1/ (namespace "investigations-api")."""

from rest_framework.routers import SimpleRouter

from investigations.api import views

app_name = "investigations-api"

router = SimpleRouter(use_regex_path=False)
router.register("test-purchases", views.TestPurchaseViewSet, basename="test-purchase")

urlpatterns = router.urls
