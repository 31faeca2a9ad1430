"""A refused page (403) is a page of the portal or of the admin console: its navigation, the reason and a
way back, not a bare "403 Forbidden" (marketsafe.error_views)."""

import pytest
from django.urls import reverse

from brands.choices import Role
from tests import factories

pytestmark = pytest.mark.django_db


def test_a_brand_page_refused_to_a_viewer_keeps_the_brand_s_navigation(client, brand, member_of):
    client.force_login(member_of(Role.VIEWER))
    overview = reverse("brands:overview", kwargs={"brand_slug": brand.slug})
    url = reverse("cases:case_create", kwargs={"brand_slug": brand.slug})

    response = client.get(url, headers={"referer": "http://testserver" + overview})

    assert response.status_code == 403
    assert response.templates[0].name == "403.html"
    page = response.content.decode()
    assert "<h1>You may not open this page</h1>" in page
    assert f"Your role in {brand.name} does not allow this." in page
    assert '<nav class="sections" aria-label="Sections">' in page
    assert f'<a href="http://testserver{overview}">Back to the previous page</a>' in page
    assert f"ask an owner of {brand.name}" in page


def test_a_foreign_referer_is_not_offered_as_the_way_back(client, brand, member_of):
    client.force_login(member_of(Role.VIEWER))
    url = reverse("cases:case_create", kwargs={"brand_slug": brand.slug})

    page = client.get(url, headers={"referer": "https://evil.example/phish"}).content.decode()

    assert "evil.example" not in page
    assert f'<a href="{reverse("home")}">Back to the previous page</a>' in page


def test_an_admin_page_refused_to_a_moderator_is_a_page_of_the_console(client):
    client.force_login(factories.UserFactory(username="moderator", is_staff=True))

    response = client.get(reverse("admin:accounts_user_changelist"))

    assert response.status_code == 403
    assert response.templates[0].name == "admin/403.html"
    page = response.content.decode()
    assert "MarketSafe moderation" in page
    assert "<h1>You may not open this page</h1>" in page
    assert '<ol class="breadcrumbs">' in page
    assert f'<a href="{reverse("admin:index")}">The console home page</a>' in page
