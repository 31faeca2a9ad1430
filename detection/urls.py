"""The brand's re-listing pages, under /b/<brand_slug>/relistings/."""

from django.urls import path

from detection import views, views_watch

app_name = "detection"

urlpatterns = [
    path("relistings/", views.CandidateListView.as_view(), name="candidate_list"),
    path("relistings/<int:pk>/file/", views.CandidateFileView.as_view(), name="candidate_file"),
    path("relistings/<int:pk>/dismiss/", views.CandidateDismissView.as_view(), name="candidate_dismiss"),
    path("relistings/policy/", views.PolicyView.as_view(), name="policy"),
]

# Brand watch: saved searches over the marketplace catalogue and their matches (detection/views_watch.py).
urlpatterns += [
    path("watch/", views_watch.WatchSearchListView.as_view(), name="watch_list"),
    path("watch/new/", views_watch.WatchSearchCreateView.as_view(), name="watch_create"),
    path("watch/<int:pk>/edit/", views_watch.WatchSearchUpdateView.as_view(), name="watch_update"),
    path("watch/<int:pk>/delete/", views_watch.WatchSearchDeleteView.as_view(), name="watch_delete"),
    path("watch/<int:pk>/digest/", views_watch.WatchDigestView.as_view(), name="watch_digest"),
    path("watch/matches/", views_watch.WatchMatchListView.as_view(), name="watch_match_list"),
    path("watch/matches/bulk/", views_watch.WatchMatchBulkView.as_view(), name="watch_match_bulk"),
    path("watch/matches/<int:pk>/file/", views_watch.WatchMatchFileView.as_view(), name="watch_match_file"),
]
