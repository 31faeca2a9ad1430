"""List filters that narrow a changelist to one delisting job's rows: the listings it removed and the
targets it left up (by outcome). Reached through the links on a job's page (`listings.admin.delisting`)."""

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.db import models
from django.db.models import Func
from django.http import HttpRequest

from listings import delisting
from listings.choices import DelistOutcome
from listings.models import (
    DelistChunk,
    DelistTarget,
    Listing,
)


class SelectedDelistJobFilter(admin.SimpleListFilter):
    """Narrows a list to one delisting job's rows; reached through the links on the job's page.

    It offers the chosen job only (and "All"): a choice per job would cost a query on every page for a
    list nobody scrolls. A value that is no job id is refused rather than ignored, since the stock
    behaviour for an unknown value (drop the filter) would show every row of a huge table as if they
    were the job's.
    """

    title = "delisting job"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        value = self.value()
        return [] if value is None else [(value, f"#{value}")]

    def job_id(self) -> int | None:
        value = self.value()
        if value is None:
            return None
        if not (value.isascii() and value.isdigit() and 0 < int(value) <= delisting.MAX_BIGINT):
            raise IncorrectLookupParameters(f"{value!r} is not a delisting job id.")
        return int(value)


class ListingRemovedByJobFilter(SelectedDelistJobFilter):
    """The listings a job removed (not those it skipped or failed on): the removed ids its chunks keep."""

    title = "removed by delisting job"
    parameter_name = "delist_job"

    def queryset(self, request: HttpRequest, queryset: models.QuerySet[Listing]) -> models.QuerySet[Listing]:
        job_id = self.job_id()
        if job_id is None:
            return queryset
        removed = DelistChunk.objects.filter(job_id=job_id).annotate(listing_id=Func("removed_ids", function="unnest"))
        return queryset.filter(id__in=removed.values("listing_id"))


class DelistTargetJobFilter(SelectedDelistJobFilter):
    """A job's unremoved targets. Keeps the `job__id__exact` parameter that links to this list have always used."""

    parameter_name = "job__id__exact"

    def queryset(self, request: HttpRequest, queryset: models.QuerySet[DelistTarget]) -> models.QuerySet[DelistTarget]:
        job_id = self.job_id()
        return queryset if job_id is None else queryset.filter(job_id=job_id)


class DelistOutcomeFilter(admin.SimpleListFilter):
    """The outcomes, plus "any failure": one value for the job page's "Failures" link and the sidebar."""

    title = "outcome"
    parameter_name = "outcome"
    FAILED = "failed"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [(self.FAILED, "Any failure"), *DelistOutcome.choices]

    def queryset(self, request: HttpRequest, queryset: models.QuerySet[DelistTarget]) -> models.QuerySet[DelistTarget]:
        match self.value():
            case None:
                return queryset
            case self.FAILED:
                return queryset.filter(outcome__in=delisting.FAILED_OUTCOMES)
            case outcome if outcome in DelistOutcome.values:
                return queryset.filter(outcome=outcome)
        raise IncorrectLookupParameters(f"{self.value()!r} is no outcome.")
