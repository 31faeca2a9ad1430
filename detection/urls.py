"""The brand's re-listing pages, under /b/<brand_slug>/relistings/."""

from django.urls import path

from detection import views

app_name = "detection"

urlpatterns = [
    path("relistings/", views.CandidateListView.as_view(), name="candidate_list"),
    path("relistings/<int:pk>/file/", views.CandidateFileView.as_view(), name="candidate_file"),
    path("relistings/<int:pk>/dismiss/", views.CandidateDismissView.as_view(), name="candidate_dismiss"),
    path("relistings/policy/", views.PolicyView.as_view(), name="policy"),
]
