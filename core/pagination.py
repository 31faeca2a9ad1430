"""Pagination for lists over hundreds of thousands of rows.

Django's Paginator runs a full COUNT(*) on every page. `CappedPaginator` counts at most `cap` + 1 rows
(COUNT over a LIMIT subquery, so the cost is bounded whatever the table size) and shows "10,000+" when
there are more; pages beyond the cap ask the user to narrow the filters instead of running deep OFFSETs.
"""

from django.core.paginator import Paginator
from django.utils.functional import cached_property


class CappedPaginator(Paginator):
    cap = 10_000

    @cached_property
    def count(self) -> int:
        # Without the list's ORDER BY: counting must not sort every matching row.
        return self.object_list.order_by()[: self.cap + 1].count()

    @property
    def capped(self) -> bool:
        """True when there are more rows than the count shows."""
        return self.count > self.cap

    @cached_property
    def num_pages(self) -> int:
        return super().num_pages if not self.capped else -(-self.cap // self.per_page)
