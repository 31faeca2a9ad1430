"""DSA statement-of-reasons and Lumen notice exports, and their admin actions."""

import json

import pytest
from django.urls import reverse

from cases import services as case_services
from cases.choices import LEGAL_GROUNDS, ReasonCode
from cases.models import StatementOfReasons
from integrations.exports import (
    DSA_BATCH_SIZE,
    dsa_batches,
    dsa_statement,
    dsa_statements_queryset,
    lumen_action_taken,
    lumen_notice,
    lumen_notices,
    scrub_personal_data,
)
from listings.choices import SellerAccountType
from tests import factories

pytestmark = pytest.mark.django_db

#: The Transparency Database's required fields for a visibility decision on illegal content.
TDB_REQUIRED = {
    "decision_visibility",
    "decision_ground",
    "illegal_content_legal_ground",
    "illegal_content_explanation",
    "category",
    "content_type",
    "content_date",
    "application_date",
    "decision_facts",
    "source_type",
    "automated_detection",
    "automated_decision",
    "puid",
}


@pytest.fixture
def accepted(file_case, moderator, marketplace):
    seller = factories.SellerFactory(marketplace=marketplace, account_type=SellerAccountType.PRIVATE, name="Jane Doe")
    case = file_case(2)
    for item in case.items.all():
        item.listing.seller = seller
        item.listing.save()
        case_services.item_accept(
            item_id=item.pk,
            actor=moderator,
            message="Seller jane.doe@mail.example, +49 170 1234567, see https://x.example/p",
        )
    return case


def test_a_statement_in_the_transparency_databases_fields_without_personal_data(accepted):
    statement = dsa_statements_queryset().first()
    data = dsa_statement(statement)
    assert set(data) >= TDB_REQUIRED
    assert data["decision_visibility"] == ["DECISION_VISIBILITY_CONTENT_REMOVED"]
    assert data["category"] == "STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS"
    assert data["category_specification"] == ["KEYWORD_TRADEMARK_INFRINGEMENT"]
    assert data["content_type"] == ["CONTENT_TYPE_PRODUCT"]
    assert data["source_type"] == "SOURCE_ARTICLE_16"
    assert data["automated_detection"] == "No"
    assert data["automated_decision"] == "AUTOMATED_DECISION_NOT_AUTOMATED"
    assert data["account_type"] == "ACCOUNT_TYPE_PRIVATE"
    assert data["puid"] == f"marketsafe-sor-{statement.pk}"
    assert len(data["illegal_content_legal_ground"]) <= 500 and len(data["decision_facts"]) <= 5000
    text = json.dumps(data)
    for personal in ("jane.doe@mail.example", "170 1234567", "https://x.example", "Jane Doe", "shopnow.example"):
        assert personal not in text
    assert "[e-mail removed]" in data["decision_facts"] and "[link removed]" in data["decision_facts"]


def test_batches_hold_at_most_100_statements(accepted):
    statement = StatementOfReasons.objects.first()
    copies = [StatementOfReasons(**_fields(statement)) for _ in range(248)]
    StatementOfReasons.objects.bulk_create(copies)
    batches = list(dsa_batches(dsa_statements_queryset()))
    assert [len(b["statements"]) for b in batches] == [100, 100, 50]
    puids = [s["puid"] for b in batches for s in b["statements"]]
    assert len(set(puids)) == 250
    with pytest.raises(ValueError):
        list(dsa_batches([], size=DSA_BATCH_SIZE + 1))


def _fields(statement):
    skip = {"id", "created_at"}
    return {
        f.attname: getattr(statement, f.attname)
        for f in StatementOfReasons._meta.concrete_fields
        if f.attname not in skip
    }


def test_the_legal_ground_is_masked_like_the_other_free_texts(file_case, moderator):
    # Typed by a moderator: masked when the statement is made, as the explanation and facts are.
    item = file_case(1).items.get()
    given = case_services.StatementInput(legal_ground="Art. 9; ask legal@brand.example or +49 170 1234567.")
    case_services.item_accept(item_id=item.pk, actor=moderator, message="Fake.", statement=given)
    statement = StatementOfReasons.objects.get(item=item)
    assert statement.legal_ground == "Art. 9; ask [e-mail removed] or [number removed]."
    # Stored before the rule covered it (500 characters): masked when exported, which lengthens it, then cut.
    StatementOfReasons.objects.filter(pk=statement.pk).update(legal_ground="a@b.io " * 70)
    data = dsa_statement(dsa_statements_queryset().get(pk=statement.pk))
    assert data["illegal_content_legal_ground"] == ("[e-mail removed] " * 70)[:500]


def test_masking_keeps_the_act_numbers_of_eu_law():
    for ground in LEGAL_GROUNDS.values():
        assert scrub_personal_data(ground) == ground
    assert "2017/1001" in LEGAL_GROUNDS[ReasonCode.COUNTERFEIT]
    assert scrub_personal_data("Regulation (EU) 2017/1001, or call 0170/1234567") == (
        "Regulation (EU) 2017/1001, or call [number removed]"
    )


def test_scrubbing_masks_contact_details():
    assert scrub_personal_data("mail a.b@c.example or call +44 20 7946 0958 www.shop.example") == (
        "mail [e-mail removed] or call [number removed] [link removed]"
    )


#: Notices as Lumen's own serializers give them (lumendatabase app/serializers: `NoticeSerializer`, and
#: `TrademarkSerializer` / `OtherSerializer`, which rename and replace its keys), with made-up values.
LUMEN_SAMPLES = {
    "Counterfeit": {
        "id": 1,
        "type": "Counterfeit",
        "title": "Counterfeit notice",
        "body": "Fake bags.",
        "date_sent": "2026-01-02T10:00:00+00:00",
        "date_received": "2026-01-02T10:00:00+00:00",
        "date_submitted": "2026-01-02T10:00:00+00:00",
        "topics": ["Counterfeit"],
        "sender_name": "Acme",
        "principal_name": "Acme",
        "recipient_name": "ShopNow",
        "works": [
            {
                "description": "Trademark ACME",
                "infringing_urls": [{"url": "https://a.example/1"}],
                "copyrighted_urls": [],
            }
        ],
        "tags": ["counterfeit"],
        "jurisdictions": ["IT"],
        "action_taken": "Yes",
        "language": "en",
    },
    "Trademark": {
        "id": 1,
        "type": "Trademark",
        "title": "Trademark notice",
        "body": "Logo misuse.",
        "date_sent": "2026-01-02T10:00:00+00:00",
        "date_received": "2026-01-02T10:00:00+00:00",
        "date_submitted": "2026-01-02T10:00:00+00:00",
        "topics": ["Trademark"],
        "sender_name": "Acme",
        "principal_name": "Acme",
        "recipient_name": "ShopNow",
        "marks": [{"description": "Trademark ACME", "infringing_urls": ["https://a.example/1"]}],
        "mark_registration_number": "018000001",
        "tags": ["trademark_title"],
        "jurisdictions": ["IT"],
        "action_taken": "Yes",
        "language": "en",
    },
    "Other": {
        "id": 1,
        "type": "Other",
        "title": "Design notice",
        "explanation": "Copied design.",
        "date_sent": "2026-01-02T10:00:00+00:00",
        "date_received": "2026-01-02T10:00:00+00:00",
        "date_submitted": "2026-01-02T10:00:00+00:00",
        "topics": ["Design"],
        "sender_name": "Acme",
        "principal_name": "Acme",
        "recipient_name": "ShopNow",
        "works": [
            {"complaint": "Design ACME", "problematic_urls": [{"url": "https://a.example/1"}], "original_work_urls": []}
        ],
        "tags": ["design"],
        "jurisdictions": ["IT"],
        "action_taken": "Yes",
        "language": "en",
    },
}
LUMEN_SAMPLES["DMCA"] = {**LUMEN_SAMPLES["Counterfeit"], "type": "DMCA", "topics": ["Copyright"]}


def shape(value):
    """The structure of a JSON value: the keys of objects (recursively), the type of anything else."""
    if isinstance(value, dict):
        return {key: shape(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return type(value).__name__


@pytest.mark.parametrize(
    ("reason_code", "lumen_type"),
    [("counterfeit", "Counterfeit"), ("trademark_title", "Trademark"), ("design", "Other"), ("copyright", "DMCA")],
)
def test_a_lumen_notice_is_shaped_like_lumens_own(file_case, moderator, marketplace, reason_code, lumen_type):
    case = file_case(1, reason_code=reason_code)
    case_services.item_accept(item_id=case.items.get().pk, actor=moderator)
    notice = lumen_notice(case, marketplace=marketplace)
    sample = LUMEN_SAMPLES[lumen_type]
    # Empty lists in either take the other's element shape: compare keys and element shapes.
    assert set(notice) == set(sample)
    for key, value in sample.items():
        if value and notice[key]:
            assert shape(notice[key]) == shape(value), key
    assert notice["type"] == lumen_type


def test_a_case_as_a_lumen_notice(accepted, brand, marketplace, right):
    brand.legal_name, brand.country = "Acme Leather Ltd", "IT"
    brand.save()
    notice = lumen_notice(accepted, marketplace=marketplace)
    assert notice["type"] == "Counterfeit" and notice["action_taken"] == "Yes"
    assert notice["sender_name"] == notice["principal_name"] == "Acme Leather Ltd"
    assert notice["recipient_name"] == marketplace.name and notice["jurisdictions"] == ["IT"]
    assert notice["topics"] == ["Counterfeit", "Trademark"]
    assert notice["date_submitted"] == accepted.submitted_at.isoformat()
    urls = {u["url"] for u in notice["works"][0]["infringing_urls"]}
    assert urls == {item.listing.url for item in accepted.items.all()}
    assert notice["works"][0]["description"] == f"Trademark {right.name} ({right.office} {right.registration_number})"
    assert "Rita" not in json.dumps(notice)  # the signer's name stays in the portal


def test_a_trademark_notice_lists_its_marks_like_lumen(file_case, moderator, marketplace, right):
    case = file_case(2, reason_code="trademark_image")
    notice = lumen_notice(case, marketplace=marketplace)
    assert notice["marks"] == [
        {
            "description": f"Trademark {right.name} ({right.office} {right.registration_number})",
            "infringing_urls": [item.listing.url for item in case.items.order_by("pk")],
        }
    ]
    assert notice["mark_registration_number"] == right.registration_number
    assert "works" not in notice


def test_a_lumen_notice_has_one_recipient(file_case, marketplace, moderator):
    """A case reporting listings on two marketplaces is two notices, each naming only its marketplace's."""
    other = factories.MarketplaceFactory(name="BuyMore", slug="buymore", hosts=["buymore.example"])
    case = file_case(1, listing_urls=["https://shopnow.example/item/A1", "https://buymore.example/item/B1"])
    notices = lumen_notices([case])
    assert [(n["id"], n["recipient_name"]) for n in notices] == [(case.pk, "BuyMore"), (case.pk, "ShopNow")]
    assert [[u["url"] for u in n["works"][0]["infringing_urls"]] for n in notices] == [
        ["https://buymore.example/item/B1"],
        ["https://shopnow.example/item/A1"],
    ]
    assert notices[1] == lumen_notice(case, marketplace=marketplace)
    assert len(lumen_notice(case, marketplace=other)["works"][0]["infringing_urls"]) == 1


def test_lumen_action_taken():
    assert lumen_action_taken(["accepted", "rejected"]) == "Partial"
    assert lumen_action_taken(["rejected"]) == "No"
    assert lumen_action_taken(["submitted", "accepted"]) == "Unspecified"


def test_admin_actions_download_the_exports(client, accepted):
    admin_user = factories.UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(admin_user)
    ids = list(StatementOfReasons.objects.values_list("pk", flat=True))
    response = client.post(
        reverse("admin:cases_statementofreasons_changelist"),
        {"action": "export_dsa_statements", "_selected_action": ids},
    )
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    lines = b"".join(response.streaming_content if response.streaming else [response.content]).decode().splitlines()
    assert [len(json.loads(line)["statements"]) for line in lines] == [2]
    response = client.post(
        reverse("admin:cases_case_changelist"), {"action": "export_lumen_notices", "_selected_action": [accepted.pk]}
    )
    notices = json.loads(response.content)
    assert [n["id"] for n in notices["notices"]] == [accepted.pk]
