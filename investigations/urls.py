"""Pages of the investigations app, mounted under /b/<brand_slug>/ (namespace "investigations")."""

from django.urls import path

from investigations import views

app_name = "investigations"

urlpatterns = [
    path("test-purchases/", views.TestPurchaseListView.as_view(), name="purchase_list"),
    path("test-purchases/add/", views.TestPurchaseCreateView.as_view(), name="purchase_create"),
    path("test-purchases/<int:pk>/", views.TestPurchaseDetailView.as_view(), name="purchase_detail"),
    path("test-purchases/<int:pk>/events/add/", views.CustodyEventCreateView.as_view(), name="event_create"),
    path("test-purchases/<int:pk>/verdict/", views.VerdictView.as_view(), name="verdict"),
    path("test-purchases/<int:pk>/file-notice/", views.NoticeCreateView.as_view(), name="notice_create"),
    path("test-purchases/<int:pk>/attach/<int:item_id>/", views.AttachView.as_view(), name="attach"),
    path(
        "test-purchases/files/<int:pk>/download/",
        views.TestPurchaseFileDownloadView.as_view(),
        name="file_download",
    ),
]
