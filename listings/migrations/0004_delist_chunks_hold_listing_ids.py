"""Delisting chunks hold their listing ids; targets are kept only for listings a job did not remove.

Before, planning wrote one target row per selected listing and each chunk updated its rows: every
listing cost two extra writes, five index entries each. Now a chunk row freezes its listing ids (and,
once done, the ids it removed) and a target row is written only for a listing the job left up.

Existing jobs are converted: each chunk gets the listing ids of the targets in its old id range and the
ids it removed; targets of removed listings (and still pending ones, whose chunk will decide them) go;
input lines that named no listing become the job's `unresolved` count.
"""

import django.contrib.postgres.fields
import django.db.models.functions.datetime
from django.db import migrations, models

FORWARD = """
UPDATE listings_delistchunk AS chunk
SET listing_ids = picked.ids,
    removed_ids = picked.removed,
    size = cardinality(picked.ids),
    first_listing_id = coalesce(picked.ids[1], 0),
    last_listing_id = coalesce(picked.ids[cardinality(picked.ids)], 0)
FROM (
    SELECT chunk.id,
           coalesce(array_agg(target.listing_id ORDER BY target.listing_id)
                    FILTER (WHERE target.listing_id IS NOT NULL), '{}') AS ids,
           coalesce(array_agg(target.listing_id ORDER BY target.listing_id)
                    FILTER (WHERE target.outcome = 'removed'), '{}') AS removed
    FROM listings_delistchunk AS chunk
    LEFT JOIN listings_delisttarget AS target
        ON target.job_id = chunk.job_id AND target.id BETWEEN chunk.first_target_id AND chunk.last_target_id
    GROUP BY chunk.id
) AS picked
WHERE chunk.id = picked.id;

UPDATE listings_delistjob AS job
SET unresolved = (SELECT count(*) FROM listings_delisttarget AS target
                  WHERE target.job_id = job.id AND target.listing_id IS NULL);

DELETE FROM listings_delisttarget WHERE outcome IN ('pending', 'removed');
UPDATE listings_delisttarget SET processed_at = now() WHERE processed_at IS NULL;
"""


class Migration(migrations.Migration):
    dependencies = [("listings", "0003_drop_duplicate_url_index")]

    operations = [
        migrations.AddField(
            model_name="delistjob",
            name="unresolved",
            field=models.PositiveBigIntegerField(
                default=0, help_text="Selected ids or input lines that named no listing when the job was planned."
            ),
        ),
        migrations.AddField(
            model_name="delistchunk",
            name="listing_ids",
            field=django.contrib.postgres.fields.ArrayField(
                base_field=models.BigIntegerField(),
                default=list,
                help_text="The chunk's selected listings, in id order.",
                size=None,
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="delistchunk",
            name="size",
            field=models.PositiveIntegerField(default=0, help_text="How many listings the chunk holds."),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="delistchunk",
            name="first_listing_id",
            field=models.BigIntegerField(default=0),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="delistchunk",
            name="last_listing_id",
            field=models.BigIntegerField(default=0),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="delistchunk",
            name="removed_ids",
            field=django.contrib.postgres.fields.ArrayField(
                base_field=models.BigIntegerField(),
                blank=True,
                default=list,
                help_text="The listings this chunk removed.",
                size=None,
            ),
        ),
        migrations.RunSQL(FORWARD, reverse_sql=migrations.RunSQL.noop, elidable=False),
        migrations.RemoveConstraint(model_name="delistchunk", name="delistchunk_range_ordered"),
        migrations.RemoveField(model_name="delistchunk", name="first_target_id"),
        migrations.RemoveField(model_name="delistchunk", name="last_target_id"),
        migrations.AddConstraint(
            model_name="delistchunk",
            constraint=models.CheckConstraint(
                condition=models.Q(first_listing_id__lte=models.F("last_listing_id")),
                name="delistchunk_range_ordered",
            ),
        ),
        migrations.AlterField(
            model_name="delisttarget",
            name="outcome",
            field=models.CharField(
                choices=[
                    ("already_removed", "Already removed"),
                    ("not_found", "Not found"),
                    ("locked", "Locked by a pending counter-notice"),
                    ("error", "Error"),
                ],
                max_length=16,
            ),
        ),
        migrations.AlterField(
            model_name="delisttarget",
            name="processed_at",
            field=models.DateTimeField(db_default=django.db.models.functions.datetime.Now()),
        ),
        migrations.AlterModelOptions(name="delisttarget", options={"verbose_name": "unremoved delisting target"}),
    ]
