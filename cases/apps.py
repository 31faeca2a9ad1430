from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = "Notices and decisions"

    def ready(self) -> None:
        # listings knows nothing of cases: cases tells the delisting engine which listings are disputed.
        from cases.selectors import listings_under_dispute
        from listings.delisting import register_lock_check

        register_lock_check(listings_under_dispute)
