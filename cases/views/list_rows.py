"""The rows of the case list and the reported-listings list, rendered in Python.

Profiling the item list (50 rows) showed the template engine's per-row work (variable resolution,
filters, `{% url %}`, `{% with %}`) as most of the page's CPU time. These functions build the same HTML
with `html.escape` and f-strings: every value from the database goes through `_e` (escaping quotes too),
the few fragments that are already safe come from `PageMoments.time_left`, which escapes its own input. The
templates keep the table's frame (caption, headers, empty states); only the `<tbody>` comes from here.
bench_pages measures the page both ways (`--template-rows`).
"""

from collections.abc import Iterable
from datetime import datetime
from html import escape
from typing import Any

from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe

from brands.choices import Lane
from cases.choices import CaseStatus, ItemStatus, ReasonCode
from cases.models import Case
from cases.templatetags.cases_extras import PageMoments, next_deadline

_ITEM_STATUS = dict(ItemStatus.choices)
_CASE_STATUS = dict(CaseStatus.choices)
_REASON = dict(ReasonCode.choices)
_LANE = dict(Lane.choices)
_SENTINEL = 2_147_483_647
#: After the lane of a case filed by automated re-listing detection on the brand's behalf.
_AUTOMATED = '<br><span class="badge">Automated detection</span>'


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _truncate(text: str, length: int) -> str:
    """As the `truncatechars` filter: at most `length` characters, an ellipsis included."""
    return text if len(text) <= length else text[: length - 1] + "…"


def _case_url(brand_slug: str) -> tuple[str, str]:
    """(prefix, suffix) of the case page's URL around its id: one `reverse` per page, not one per row."""
    url = reverse("cases:case_detail", kwargs={"brand_slug": brand_slug, "pk": _SENTINEL})
    prefix, suffix = url.rsplit(str(_SENTINEL), 1)
    return prefix, suffix


def _when(moments: PageMoments, moment: datetime | None) -> str:
    return _e(moments.text(moment)) if moment else ""


def item_rows(items: Iterable[Any], *, brand_slug: str) -> SafeString:
    """`items` are rows of `selectors.ITEM_LIST_FIELDS` with those names (`values_list(..., named=True)`)."""
    prefix, suffix = _case_url(brand_slug)
    moments = PageMoments()
    out = []
    for item in items:
        if item.listing__seller__external_id is None:  # no seller joined (the listing's seller is not known)
            seller_html = "Seller not known yet"
        else:
            seller_html = f"{_e(item.listing__seller__name)} ({_e(item.listing__seller__external_id)})"
        deadline = next_deadline(item)
        if deadline:
            label = _e(deadline.label)
            label = f"<strong>{label}</strong>" if deadline.on_brand else label
            deadline_html = f"{label}<br>{moments.time_left(deadline.due)}"
        else:
            deadline_html = ""
        url = item.listing__url
        out.append(
            "<tr>"
            f'<th scope="row"><a href="{prefix}{item.case_id}{suffix}#item-{item.id}">#{item.id}</a> '
            f"<small>case #{item.case_id}</small></th>"
            f'<td class="listing">{_e(item.listing__title or "(no title yet)")}<br>'
            f'<a href="{_e(url)}" rel="noopener noreferrer nofollow">{_e(_truncate(url, 60))}</a></td>'
            f"<td>{_e(item.listing__marketplace__name)}<br><small>{seller_html}</small></td>"
            f"<td>{_e(_REASON.get(item.reason_code, item.reason_code))}<br>"
            f"<small>{_e(_LANE.get(item.lane, item.lane))}</small></td>"
            f'<td><span class="status">{_e(_ITEM_STATUS.get(item.status, item.status))}</span></td>'
            f"<td>{_when(moments, item.submitted_at)}</td>"
            f"<td>{deadline_html}</td>"
            "</tr>"
        )
    return mark_safe("\n".join(out))  # noqa: S308 - every value above is escaped by _e or by PageMoments.time_left


def case_rows(cases: Iterable[Case], *, brand_slug: str) -> SafeString:
    prefix, suffix = _case_url(brand_slug)
    moments = PageMoments()
    out = []
    for case in cases:
        waiting = f'<strong class="attention">{case.waiting_count}</strong>' if case.waiting_count else "0"
        out.append(
            "<tr>"
            f'<th scope="row"><a href="{prefix}{case.pk}{suffix}">Case #{case.pk}</a></th>'
            f"<td>{_when(moments, case.submitted_at)}</td>"
            f"<td>{_e(_REASON.get(case.reason_code, case.reason_code))}</td>"
            f"<td>{_e(_LANE.get(case.lane, case.lane))}{_AUTOMATED if case.automated else ''}</td>"
            f"<td>{_e(_CASE_STATUS.get(case.status, case.status))}</td>"
            f'<td class="number">{case.item_count}</td>'
            f'<td class="number">{case.open_count}</td>'
            f'<td class="number">{waiting}</td>'
            "</tr>"
        )
    return mark_safe("\n".join(out))  # noqa: S308 - every value above is escaped by _e
