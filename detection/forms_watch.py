"""The brand watch's forms: a saved search, and the filters and bulk actions of the matches list.

(Beside `forms.py`'s place in the app's shape, in a module of its own while the stay-down work of issue 17
goes on in parallel in the same app.) The form only parses; `detection.services.watch.criteria_clean`
is the one judge of the criteria, and its refusals land next to the field they name."""

from dataclasses import asdict
from typing import Any

from django import forms

from detection.choices import WatchMatchState
from detection.models import WatchSearch
from detection.services.watch import WatchCriteria
from listings.models import Marketplace, Seller


class WatchSearchForm(forms.Form):
    name = forms.CharField(max_length=120, help_text="For you and the digest e-mail, e.g. “Classic tote, cheap”.")
    words = forms.CharField(
        max_length=200,
        required=False,
        help_text="Every word must appear in the listing's title, in any order and case (3 characters or more each).",
    )
    marketplace = forms.ModelChoiceField(queryset=Marketplace.objects.none(), required=False, empty_label="Any")
    seller = forms.CharField(
        max_length=120,
        required=False,
        label="Seller id",
        help_text="The seller's id on the marketplace: only its listings match (choose the marketplace too).",
    )
    price_min = forms.DecimalField(label="Lowest price", required=False, max_digits=12, decimal_places=2)
    price_max = forms.DecimalField(label="Highest price", required=False, max_digits=12, decimal_places=2)
    image_hash = forms.CharField(
        label="Product image (PDQ hash)",
        max_length=64,
        required=False,
        help_text="The 64 hexadecimal characters of your product photo's PDQ hash: listings with an image within "
        "31 of 256 bits match.",
    )
    active = forms.BooleanField(label="Active", required=False, initial=True)
    notify_webhook = forms.BooleanField(
        label="Send each new match to our webhook endpoints (event watch.match)", required=False, initial=True
    )
    digest = forms.BooleanField(label="E-mail me a daily digest of new matches", required=False, initial=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["marketplace"].queryset = Marketplace.objects.order_by("name")

    @classmethod
    def initial_of(cls, search: WatchSearch, *, digest: bool) -> dict[str, Any]:
        initial = asdict(WatchCriteria.of(search))
        initial["marketplace"] = initial.pop("marketplace_id")
        initial["seller"] = search.seller.external_id if initial.pop("seller_id") else ""
        return initial | {"image_hash": search.image_hash or "", "digest": digest}

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        external_id = (data.get("seller") or "").strip()
        data["seller_id"] = None
        if external_id:
            marketplace = data.get("marketplace")
            if marketplace is None:
                self.add_error("seller", "Choose the seller's marketplace too.")
            else:
                seller = Seller.objects.filter(marketplace=marketplace, external_id=external_id).first()
                if seller is None:
                    self.add_error("seller", f"{marketplace} has no seller with the id {external_id!r}.")
                else:
                    data["seller_id"] = seller.pk
        return data

    def criteria(self) -> WatchCriteria:
        data = self.cleaned_data
        return WatchCriteria(
            name=data["name"],
            words=data["words"],
            marketplace_id=data["marketplace"].pk if data.get("marketplace") else None,
            price_min=data.get("price_min"),
            price_max=data.get("price_max"),
            seller_id=data.get("seller_id"),
            image_hash=data.get("image_hash") or None,
            active=data["active"],
            notify_webhook=data["notify_webhook"],
        )


#: What the matches list's bulk buttons do: the action → the state it sets.
BULK_ACTIONS = {"seen": WatchMatchState.SEEN, "dismiss": WatchMatchState.DISMISSED, "restore": WatchMatchState.NEW}
