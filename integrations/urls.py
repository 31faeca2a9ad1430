"""A brand's webhook endpoints, mounted under /b/<brand_slug>/webhooks/ (namespace "integrations")."""

from django.urls import path

from integrations import views

app_name = "integrations"

urlpatterns = [
    path("", views.WebhookEndpointListView.as_view(), name="webhook_list"),
    path("add/", views.WebhookEndpointCreateView.as_view(), name="webhook_create"),
    path("<int:pk>/", views.WebhookEndpointDetailView.as_view(), name="webhook_detail"),
    path("<int:pk>/test/", views.WebhookEndpointTestView.as_view(), name="webhook_test"),
    path("<int:pk>/delete/", views.WebhookEndpointDeleteView.as_view(), name="webhook_delete"),
]
