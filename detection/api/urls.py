"""Detection endpoints, mounted under /api/v1/ (namespace "detection-api")."""

from rest_framework.routers import SimpleRouter

from detection.api import views

app_name = "detection-api"

router = SimpleRouter(use_regex_path=False)
router.register("relisting-candidates", views.ReListingCandidateViewSet, basename="candidate")

router.register("watch-searches", views.WatchSearchViewSet, basename="watch-search")
router.register("watch-matches", views.WatchMatchViewSet, basename="watch-match")

urlpatterns = router.urls
