"""Platform endpoints for marketplace systems; the project mounts them at /api/v1/platform/."""

from django.urls import path

from integrations.platform import views

app_name = "platform-api"

urlpatterns = [
    path("sellers/bulk/", views.SellerBulkUpsertView.as_view(), name="seller-bulk"),
    path("listings/bulk/", views.ListingBulkUpsertView.as_view(), name="listing-bulk"),
    path("items/<int:item_id>/counter-notice/", views.CounterNoticeView.as_view(), name="item-counter-notice"),
    path("items/<int:item_id>/appeal/", views.AppealView.as_view(), name="item-appeal"),
    path("decisions/", views.DecisionFeedView.as_view(), name="decision-list"),
    path("dsa-statements/", views.DSAStatementBatchView.as_view(), name="dsa-statement-batch"),
    path("cases/<int:case_id>/lumen/", views.LumenNoticeView.as_view(), name="case-lumen"),
    path("test-purchases/", views.TestPurchaseOrderListView.as_view(), name="test-purchase-list"),
    path(
        "test-purchases/<int:purchase_id>/order/",
        views.TestPurchaseOrderAnswerView.as_view(),
        name="test-purchase-order",
    ),
]
