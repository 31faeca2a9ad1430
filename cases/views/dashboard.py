"""The brand's dashboard: what is open, what waits for the brand, how its notices fare, and any MarketSafe
accuracy warning or suspension.

Every figure is an aggregate computed by PostgreSQL (`cases.selectors.dashboard`); the page reads no
item rows except the few nearest deadlines it lists.
"""

from typing import Any

from django.urls import path
from django.utils.formats import date_format
from django.views.generic import TemplateView

from brands.access import BrandAccessMixin
from brands.choices import MEMBERSHIP_CURRENT_STATUSES
from brands.models import ProgramMembership
from cases import selectors
from cases.models import CaseItem
from core.templatetags.charts import Series


class DashboardView(BrandAccessMixin, TemplateView):
    model = CaseItem
    template_name = "cases/dashboard.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        figures = selectors.dashboard(user=self.request.user, brand=self.brand)
        context.update(
            dashboard=figures,
            # The MarketSafe membership, for its accuracy warning or suspension notice.
            program_membership=ProgramMembership.objects.for_user(self.request.user, brand=self.brand)
            .filter(status__in=MEMBERSHIP_CURRENT_STATUSES)
            .first(),
            chart_labels=[date_format(point.week, "j M") for point in figures.weeks],
            chart_series=[
                Series("Filed", [point.filed for point in figures.weeks]),
                Series("Decided", [point.decided for point in figures.weeks]),
            ],
        )
        return context


urlpatterns = [path("dashboard/", DashboardView.as_view(), name="dashboard")]
