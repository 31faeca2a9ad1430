"""Synthetic reported items at production scale, for the benchmarks (as `listings.bulk` is for listings).

One `INSERT ... SELECT` each for the cases and their items, on listings the brand has not reported yet (the
index of one open report per brand and listing holds), `per_case` items per case, the cases an hour apart
and every third item in review: a queue as the benchmarks read it, without the filing's checks, audit events
or webhook rows, which the lists never read.
"""

from collections.abc import Sequence

from django.db import connection, transaction


@transaction.atomic
def generate_case_items(
    *, brand_id: int, user_id: int, count: int, marketplace_ids: Sequence[int] | None = None, per_case: int = 1000
) -> int:
    """Insert `count` items of `brand_id` in new cases filed by `user_id`, over listings of
    `marketplace_ids` (any marketplace when None); returns how many were inserted (fewer when the listings
    run out)."""
    if count <= 0:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO cases_case (brand_id, filed_by_id, lane, reason_code, explanation, channel, status,
                                    idempotency_key, submitted_at)
            SELECT %s, %s, 'standard', 'counterfeit', 'Benchmark case', 'web', 'received', '',
                   now() - make_interval(hours => g)
            FROM generate_series(1, %s) AS g
            RETURNING id
            """,
            [brand_id, user_id, -(-count // per_case)],
        )
        case_ids = sorted(row[0] for row in cursor.fetchall())
        cursor.execute(
            """
            WITH fresh AS (
                SELECT listing.id, row_number() OVER (ORDER BY listing.id) - 1 AS n
                FROM listings_listing AS listing
                WHERE (%(marketplaces)s::bigint[] IS NULL OR listing.marketplace_id = ANY(%(marketplaces)s))
                  AND NOT EXISTS (SELECT 1 FROM cases_caseitem AS item
                                  WHERE item.brand_id = %(brand)s AND item.listing_id = listing.id)
                ORDER BY listing.id
                LIMIT %(count)s
            ), numbered AS (
                SELECT case_id, ordinality - 1 AS k FROM unnest(%(cases)s::bigint[]) WITH ORDINALITY AS c(case_id)
            )
            INSERT INTO cases_caseitem (case_id, brand_id, listing_id, lane, reason_code, status, brand_note,
                                        submitted_at, sla_due_at, rejection_code, moderator_message,
                                        status_changed_at)
            SELECT numbered.case_id, %(brand)s, fresh.id, 'standard', 'counterfeit',
                   CASE WHEN fresh.n %% 3 = 0 THEN 'in_review' ELSE 'submitted' END, '',
                   case_row.submitted_at, case_row.submitted_at + interval '3 days', '', '', case_row.submitted_at
            FROM fresh
            JOIN numbered ON numbered.k = fresh.n / %(per_case)s
            JOIN cases_case AS case_row ON case_row.id = numbered.case_id
            """,
            {
                "marketplaces": list(marketplace_ids) if marketplace_ids is not None else None,
                "brand": brand_id,
                "count": count,
                "cases": case_ids,
                "per_case": per_case,
            },
        )
        inserted = cursor.rowcount
        cursor.execute("ANALYZE cases_case; ANALYZE cases_caseitem")
    return inserted
