"""Staff reports served in the admin: the moderation SLA page (`cases.sla`), the MarketSafe program
report (`brands.selectors.program_overview`, `cases.selectors.lane_figures`) and the DSA transparency report
(`reports.dsa`). Registered on the admin site by `reports.admin`."""

from typing import Any

from django.contrib.admin import AdminSite
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.views.generic import TemplateView

from brands.choices import Lane
from brands.selectors import program_flagged_members, program_overview
from cases import sla
from cases.selectors import lane_figures
from core.csvexport import csv_response
from core.templatetags.charts import Series
from investigations.selectors_networks import network_action_figures
from reports import dsa
from reports.forms import DSAReportForm


class SLAView(TemplateView):
    """The moderation SLA (`cases.sla`), for staff who may see case items."""

    template_name = "admin/sla.html"
    admin_site: AdminSite | None = None

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.has_perm("cases.view_caseitem"):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        figures = sla.sla_figures()
        return {
            **super().get_context_data(**kwargs),
            **self.admin_site.each_context(self.request),
            "title": "Review SLA",
            "sla": figures,
            "chart_labels": [date_format(point.day, "j M") for point in figures.days],
            "chart_series": [
                Series("Within SLA", [point.within_sla for point in figures.days]),
                Series("Late", [point.late for point in figures.days]),
            ],
            "item_changelist": reverse("admin:cases_caseitem_changelist"),
        }


# --- the MarketSafe program report ----------------------------------------------------------------


class ProgramReportView(TemplateView):
    """Program-wide figures for association staff (`brands.view_program_report`): members, applications and
    the time to decide them, items per month and lane, acceptance rates and time to decision per lane.

    Aggregates only: no case item, listing, seller or evidence of any brand appears here or in the CSV. The
    one list of brands is the members the nightly check flagged (monitored rates or audited accuracy), with
    its note, as the membership list shows them to association staff.
    """

    template_name = "admin/program_report.html"
    admin_site: AdminSite | None = None

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.has_perm("brands.view_program_report"):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        overview = program_overview()
        lanes = lane_figures()
        networks = network_action_figures()
        if request.GET.get("format") == "csv":
            rows = program_csv_rows(overview, lanes) + network_csv_rows(networks)
            return csv_response("marketsafe-program.csv", PROGRAM_CSV_HEADER, rows)
        flagged = program_flagged_members()
        return self.render_to_response(
            self.get_context_data(overview=overview, lanes=lanes, flagged=flagged, networks=networks)
        )

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        lanes = kwargs["lanes"]
        labels = [date_format(month, "M Y") for month in lanes.months]
        per_month = kwargs["overview"].applications_per_month

        def series(name: str, lane: str, field: str) -> Series:
            return Series(name, [getattr(p, field) for p in lanes.per_month if p.lane == lane])

        return {
            **super().get_context_data(**kwargs),
            **self.admin_site.each_context(self.request),
            "title": "MarketSafe program",
            "now": timezone.now(),
            "chart_labels": labels,
            "filed_series": [
                series("Expedited", Lane.EXPEDITED, "filed"),
                series("Standard", Lane.STANDARD, "filed"),
            ],
            "decided_series": [
                series("Expedited", Lane.EXPEDITED, "decided"),
                series("Standard", Lane.STANDARD, "decided"),
            ],
            "application_labels": [date_format(month, "M Y") for month, _, _ in per_month],
            "application_series": [
                Series("Submitted", [n for _, n, _ in per_month]),
                Series("Decided", [n for _, _, n in per_month]),
            ],
            "month_rows": [
                (label, [p for p in lanes.per_month if p.month == month])
                for label, month in zip(labels, lanes.months, strict=True)
            ],
        }


PROGRAM_CSV_HEADER = ("figure", "lane_or_status", "month", "value")


def program_csv_rows(overview: Any, lanes: Any) -> list[tuple[Any, ...]]:
    """The report's figures in long form: one row per figure, lane or status, and month (empty for totals)."""
    rows: list[tuple[Any, ...]] = [("members", status, "", n) for status, _, n in overview.members]
    rows += [("applications", status, "", n) for status, _, n in overview.applications]
    rows.append(("applications_decided", "", "", overview.decided))
    median_days = overview.median_days_to_decide
    rows.append(("median_days_to_decide_application", "", "", "" if median_days is None else round(median_days, 2)))
    for month, submitted, decided in overview.applications_per_month:
        rows += [("applications_submitted", "", f"{month:%Y-%m}", submitted)]
        rows += [("applications_decided", "", f"{month:%Y-%m}", decided)]
    for point in lanes.per_month:
        month = f"{point.month:%Y-%m}"
        rows += [
            ("items_filed", point.lane, month, point.filed),
            ("items_decided", point.lane, month, point.decided),
            ("items_accepted", point.lane, month, point.accepted),
        ]
    for lane in lanes.lanes:
        rate = lane.acceptance_rate
        hours = lane.median_seconds / 3600 if lane.median_seconds is not None else None
        rows += [
            ("acceptance_rate", lane.lane, "", "" if rate is None else round(rate, 4)),
            ("median_hours_to_decision", lane.lane, "", "" if hours is None else round(hours, 2)),
        ]
    return rows


def network_csv_rows(networks: Any) -> list[tuple[Any, ...]]:
    """The seller networks' figures (actions on whole networks), in the report's long form."""
    return [
        ("network_actions_executed", "suspend", "", networks.suspensions),
        ("network_actions_executed", "delist", "", networks.delistings),
        ("network_actions_pending", "", "", networks.pending),
        ("network_sellers_acted_on", "", "", networks.sellers),
        ("largest_network_acted_on", "", "", "" if networks.largest is None else networks.largest),
    ]


# --- the DSA transparency report ------------------------------------------------------------------

#: Who may read the DSA report: moderators and leads (they see statements of reasons) and the association
#: (the program report's permission). The report is aggregates only, so neither sees a case through it.
DSA_REPORT_PERMISSIONS = ("cases.view_statementofreasons", "brands.view_program_report")


class DSAReportView(TemplateView):
    """The DSA transparency report (`reports.dsa`) for a period and a marketplace, with charts, one table
    per template section, and the same figures as CSV (one row per field) or JSON (`?format=csv|json`)."""

    template_name = "admin/dsa_report.html"
    admin_site: AdminSite | None = None

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not any(request.user.has_perm(permission) for permission in DSA_REPORT_PERMISSIONS):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = DSAReportForm(request.GET)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form, report=None), status=400)
        report = dsa.dsa_report(period=form.cleaned_data["period"], marketplace=form.cleaned_data["marketplace"])
        name = f"dsa-transparency-{report.period.start:%Y%m%d}-{report.period.end:%Y%m%d}"
        if marketplace := form.cleaned_data["marketplace"]:
            name += f"-{marketplace.slug}"
        export = request.GET.get("format")
        if export == "csv":
            return csv_response(f"{name}.csv", dsa.CSV_HEADER, dsa.csv_rows(report))
        if export == "json":
            response = JsonResponse(report.as_json(), json_dumps_params={"indent": 2, "ensure_ascii": False})
            response["Content-Disposition"] = f'attachment; filename="{name}.json"'
            return response
        return self.render_to_response(self.get_context_data(form=form, report=report))

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = {**super().get_context_data(**kwargs), **self.admin_site.each_context(self.request)}
        context["title"] = "DSA transparency report"
        report = kwargs["report"]
        if report is None:
            return context
        query = self.request.GET.copy()
        query.pop("format", None)
        # Set, not QueryDict.update, which would append a second value to each.
        query["start"], query["end"] = report.period.start.isoformat(), report.period.end.isoformat()
        medians = [(label, hours) for label, hours in report.medians if hours is not None]
        choices = []
        for label, period in dsa.recent_periods():
            choice = query.copy()
            choice["start"], choice["end"] = period.start.isoformat(), period.end.isoformat()
            choices.append((label, choice.urlencode(), period == report.period))
        return {
            **context,
            "query": query.urlencode(),
            "period_choices": choices,
            "template_source": dsa.TEMPLATE,
            "reason_labels": [label for label, _ in report.notices_by_reason],
            "reason_series": [Series("Notices", [n for _, n in report.notices_by_reason])],
            "ground_labels": [label for label, _ in report.actions_by_ground],
            "ground_series": [Series("Actions", [n for _, n in report.actions_by_ground])],
            "median_labels": [label for label, _ in medians],
            "median_series": [Series("Median hours", [hours for _, hours in medians])],
        }
