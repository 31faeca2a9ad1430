from django.urls import path

from brands import views

app_name = "brands"

urlpatterns = [
    path("", views.BrandOverviewView.as_view(), name="overview"),
    path("team/", views.TeamView.as_view(), name="team"),
    path(
        "rights/documents/<int:pk>/download/",
        views.IPRightDocumentDownloadView.as_view(),
        name="right_document_download",
    ),
]
