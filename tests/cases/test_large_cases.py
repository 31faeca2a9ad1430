"""Cases of many items (issue 16, point 6): the admin's case page shows the first items only, with a link to
all of them; the brand's case page pages its items. bench_case_size measures 1,000 to 20,000 items."""

import pytest
from django.urls import reverse

from cases.admin.cases import FirstItemsFormSet
from cases.models import CaseItem
from tests import factories

pytestmark = pytest.mark.django_db


def test_the_admin_case_page_shows_the_first_items_and_links_to_all(client, file_case, monkeypatch):
    monkeypatch.setattr(FirstItemsFormSet, "SHOWN", 3)
    case = file_case(5)
    client.force_login(factories.UserFactory(username="root", is_staff=True, is_superuser=True))

    page = client.get(reverse("admin:cases_case_change", args=[case.pk]))

    assert page.status_code == 200
    formset = next(f for f in page.context["inline_admin_formsets"] if f.opts.model is CaseItem)
    first = list(CaseItem.objects.filter(case=case).order_by("id").values_list("pk", flat=True)[:3])
    assert [form.instance.pk for form in formset.formset.forms] == first
    assert "5 reported listings" in page.content.decode()  # the link to the item list of all five


def test_a_case_larger_than_the_default_limit_files_when_the_setting_allows_it(file_case, settings):
    settings.MARKETSAFE = {**settings.MARKETSAFE, "MAX_ITEMS_PER_CASE": 1_200}
    case = file_case(1_200)
    assert CaseItem.objects.filter(case=case).count() == 1_200
