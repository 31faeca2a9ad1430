"""The cases app's configuration: at start-up it fills the hooks the lower apps offer."""

from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = "Notices and decisions"

    def ready(self) -> None:
        # listings knows nothing of cases: cases tells the delisting engine which listings are disputed.
        from cases.selectors import listings_under_dispute
        from listings.delisting import register_lock_check

        register_lock_check(listings_under_dispute)

        # ... and which kinds of delisting selection name case items or a case.
        from cases import delisting

        delisting.register()

        # brands knows nothing of cases either: cases computes the MarketSafe program's accuracy figures.
        from brands.selectors import register_track_record_source
        from cases.selectors import program_track_records

        register_track_record_source(program_track_records)

        # The lists' filter form offers every marketplace; its cached rendering follows their changes.
        from django.db.models.signals import post_delete, post_save

        from cases.views.lists import filter_choices_changed
        from listings.models import Marketplace

        post_save.connect(filter_choices_changed, sender=Marketplace, dispatch_uid="list-filters-marketplace-save")
        post_delete.connect(filter_choices_changed, sender=Marketplace, dispatch_uid="list-filters-marketplace-delete")
