"""The brand's seller network pages, under /b/<brand_slug>/networks/ (namespace `networks`)."""

from django.urls import path

from investigations import views_networks as views

app_name = "networks"

urlpatterns = [
    path("networks/", views.ReportedSellerListView.as_view(), name="reported_seller_list"),
    path("networks/sellers/<int:seller_id>/", views.SellerNetworkView.as_view(), name="seller_network"),
]
