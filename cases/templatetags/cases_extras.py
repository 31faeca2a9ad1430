"""Template helpers of the case pages: deadlines with the time left, the deadline that matters for an
item's status, audit events in words, figures, and sortable column headers that keep the filters."""

from dataclasses import dataclass
from datetime import datetime
from html import escape

from django import template
from django.http import HttpRequest
from django.utils import timezone
from django.utils.formats import date_format, get_format
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from cases.choices import ITEM_APPEALABLE_STATUSES, CaseStatus, ItemStatus
from cases.models import CaseItem
from core.audit.models import AuditEvent

register = template.Library()

S = ItemStatus

#: (unit, seconds, up to how many of it before the next larger unit is used)
_UNITS = (("minute", 60, 60), ("hour", 3600, 48), ("day", 86400, 60), ("month", 30 * 86400, None))


def _relative(due: datetime, now: datetime, units: tuple, *, under_a_minute: str, plural: str) -> str:
    """ "in <phrase>" or "<phrase> ago" in the largest fitting unit, whole units rounded down, so the time
    left is never overstated; `plural` is appended to a unit counted more than once."""
    seconds = (due - now).total_seconds()
    amount = abs(seconds)
    if amount < 60:
        phrase = under_a_minute
    else:
        unit, size = next((unit, size) for unit, size, limit in units if limit is None or amount // size < limit)
        count = int(amount // size)
        phrase = f"{count} {unit}{'' if count == 1 else plural}"
    return f"in {phrase}" if seconds >= 0 else f"{phrase} ago"


#: The project's English DATETIME_FORMAT (marketsafe/formats/en), which `datetime_text` writes directly.
_ENGLISH_DATETIME_FORMAT = "j M Y, H:i T"
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _english_datetime(local: datetime) -> str:
    return f"{local.day} {_MONTHS[local.month - 1]} {local.year}, {local.hour:02d}:{local.minute:02d} {local.tzname()}"


def datetime_text(moment: datetime) -> str:
    """`date_format(localtime(moment), "DATETIME_FORMAT")`, written directly when the format is the
    project's English one: Django's general formatter was half of a list's row rendering (two moments
    per row). Another language or format goes through Django's formatter."""
    local = timezone.localtime(moment)
    if get_format("DATETIME_FORMAT") != _ENGLISH_DATETIME_FORMAT:
        return date_format(local, "DATETIME_FORMAT")
    return _english_datetime(local)


def time_left_text(due: datetime, now: datetime) -> str:
    """ "in 3 days", "2 hours ago"."""
    return _relative(due, now, _UNITS, under_a_minute="less than a minute", plural="s")


def _time_left_html(due: datetime, now: datetime, absolute: str) -> str:
    """The markup of `time_left`, every value escaped (as format_html would)."""
    text = escape(time_left_text(due, now), quote=True)
    moment = f'<time datetime="{escape(due.isoformat(), quote=True)}">{escape(absolute, quote=True)}</time>'
    if due < now:
        return f'{moment} <span class="time-left overdue">({text}, overdue)</span>'
    return f'{moment} <span class="time-left">({text})</span>'


@register.filter
def time_left(due: datetime | None) -> SafeString | str:
    """The date and the time left to it; a deadline in the past says so in words as well as in red."""
    if due is None:
        return ""
    return mark_safe(_time_left_html(due, timezone.now(), datetime_text(due)))  # noqa: S308 - escaped above


class PageMoments:
    """`datetime_text` and `time_left` for the many moments of one page (a list's rows): the clock, the
    time zone and the format are read once per page instead of once per moment, which was a third of the
    rows' rendering. The same text and markup (tests/cases/test_lists.py compares them)."""

    def __init__(self) -> None:
        self.now = timezone.now()
        self.zone = timezone.get_current_timezone()
        self.english = get_format("DATETIME_FORMAT") == _ENGLISH_DATETIME_FORMAT

    def text(self, moment: datetime) -> str:
        local = timezone.localtime(moment, self.zone)
        return _english_datetime(local) if self.english else date_format(local, "DATETIME_FORMAT")

    def time_left(self, due: datetime) -> str:
        return _time_left_html(due, self.now, self.text(due))


#: (abbreviation, seconds, up to how many of it before the next larger unit is used), for the queue's column.
_SHORT_UNITS = (("min", 60, 60), ("h", 3600, 48), ("d", 86400, None))


def time_left_short(due: datetime, now: datetime) -> str:
    """ "in 3 h", "5 h ago", "in 2 d": the time left in one short line, for the queue's column."""
    return _relative(due, now, _SHORT_UNITS, under_a_minute="< 1 min", plural="")


@register.filter
def sla_short(due: datetime | None) -> SafeString | str:
    """The time left as "in 3 h" (the date in its tooltip); a breached deadline in red, and said so in words
    to a screen reader and in the tooltip, since colour alone does not say it."""
    if due is None:
        return ""
    now = timezone.now()
    absolute = date_format(timezone.localtime(due), "DATETIME_FORMAT")
    if due < now:
        return format_html(
            '<time class="sla sla-breached" datetime="{}" title="Breached: was due {}">{}'
            '<span class="visually-hidden">, breached</span></time>',
            due.isoformat(),
            absolute,
            time_left_short(due, now),
        )
    return format_html(
        '<time class="sla" datetime="{}" title="Due {}">{}</time>', due.isoformat(), absolute, time_left_short(due, now)
    )


@dataclass(frozen=True)
class Deadline:
    label: str
    due: datetime
    #: True when the brand must act before it (the dashboard and the lists highlight those).
    on_brand: bool


@register.filter
def next_deadline(item: CaseItem) -> Deadline | None:
    """The deadline that matters in the item's current status, if any."""
    match item.status:
        case S.SUBMITTED | S.IN_REVIEW:
            return Deadline("Decision due", item.sla_due_at, on_brand=False)
        case S.CLARIFICATION_REQUESTED if item.clarification_due_at:
            return Deadline("Your answer due", item.clarification_due_at, on_brand=True)
        case S.COUNTER_NOTICED if item.brand_answer_due_at:
            return Deadline("Your answer due", item.brand_answer_due_at, on_brand=True)
        case S.ACCEPTED if item.counter_notice_due_at:
            return Deadline("Seller may counter-notify until", item.counter_notice_due_at, on_brand=False)
    if item.status in ITEM_APPEALABLE_STATUSES and item.appeal_until and item.appeal_until > timezone.now():
        return Deadline("Appeal possible until", item.appeal_until, on_brand=False)
    return None


#: Audit actions in the brand's words.
ACTION_LABELS = {
    "case.submit": "Case filed",
    "case.status": "Case status changed",
    "item.submit": "Reported",
    "item.start_review": "Review started",
    "item.accept": "Accepted: listing removed",
    "item.reject": "Rejected",
    "item.request_clarification": "Clarification requested",
    "item.resubmit": "Amended and resubmitted",
    "item.withdraw": "Withdrawn",
    "item.counter_notice": "Seller's counter-notice received",
    "item.brand_answer": "Counter-notice answered",
    "item.lapse": "Deadline passed",
    "item.finalise": "Removal final",
    "item.appeal": "Appeal filed",
    "item.decide_appeal": "Appeal decided",
}


@register.filter
def event_label(event: AuditEvent) -> str:
    return ACTION_LABELS.get(event.action, event.action)


@register.filter
def state_label(value: str) -> str:
    """The label of an item or case status stored in an audit event."""
    for choices in (ItemStatus, CaseStatus):
        if value in choices.values:
            return choices(value).label
    return value


@register.filter
def actor_label(event: AuditEvent) -> str:
    """Who acted. Moderators stay anonymous to brands (as in a DSA statement of reasons); the brand's
    own members are named."""
    if event.automated:
        return "Automatic (deadline rule)"
    if event.actor is None:
        return "Marketplace"
    if event.actor.is_staff:
        return "Marketplace moderator"
    return event.actor.get_full_name() or event.actor.get_username()


@register.filter
def percent(rate: float | None) -> str:
    return "n/a" if rate is None else f"{rate:.1%}"


@register.filter
def duration(seconds: float | None) -> str:
    """A time to decision: hours under two days, days beyond."""
    if seconds is None:
        return "n/a"
    hours = seconds / 3600
    return f"{hours:.1f} hours" if hours < 48 else f"{hours / 24:.1f} days"


@register.inclusion_tag("cases/lists/_sort_header.html", takes_context=True)
def sort_header(context: template.Context, param: str, label: str, default: str = "-submitted") -> dict:
    """A column header that sorts by `param` (ascending first, then toggling), keeping the filters."""
    request: HttpRequest = context["request"]
    current = request.GET.get("ordering") or default
    query = request.GET.copy()
    query["ordering"] = f"-{param}" if current == param else param
    query.pop("page", None)
    query.pop("cursor", None)  # a position in one ordering means nothing in another
    aria_sort = {param: "ascending", f"-{param}": "descending"}.get(current)
    return {"label": label, "href": f"?{query.urlencode()}", "aria_sort": aria_sort}
