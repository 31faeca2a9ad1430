"""DSA statements of reasons meet the Transparency Database's rules when made (the moderator's form says
what is wrong) and again before export; personal data is masked before the text is cut (issue 14.3)."""

from datetime import date
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from cases import services as case_services
from cases.admin.forms import AcceptForm
from cases.choices import ItemStatus
from cases.demo import drive_item_to
from cases.models import CaseItem, StatementOfReasons
from cases.services import StatementInput
from cases.services.statements import tdb_statement_problems
from integrations.exports import dsa_statement, dsa_statements_queryset

pytestmark = pytest.mark.django_db

#: A text that masking makes longer: every e-mail address (9 characters) becomes "[e-mail removed]" (16).
CONTACTS = "Mail a@b.ex now. " * 400  # 6,800 characters, 12,400 once masked


def accept_form(**data) -> AcceptForm:
    base = {
        "decision_visibility": ["DECISION_VISIBILITY_CONTENT_REMOVED"],
        "decision_ground": "DECISION_GROUND_ILLEGAL_CONTENT",
        "application_date": "2026-01-10",
        "source_type": "SOURCE_ARTICLE_16",
        "automated_decision": "AUTOMATED_DECISION_NOT_AUTOMATED",
    }
    return AcceptForm(data=base | data)


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"application_date": "2019-12-31"}, "application_date", "between 2020-01-01 and 2038-01-01"),
        ({"application_date": "2038-01-02"}, "application_date", "between 2020-01-01 and 2038-01-01"),
        ({"end_date_visibility_restriction": "2038-01-02"}, "end_date_visibility_restriction", "2038-01-01"),
        ({"end_date_visibility_restriction": "2026-01-09"}, "end_date_visibility_restriction", "before it applies"),
        ({"explanation": "Write to a@b.ex. " * 100}, "explanation", "once e-mail addresses"),
    ],
)
def test_the_accept_form_refuses_what_the_transparency_database_would(data, field, message):
    form = accept_form(**data)
    assert not form.is_valid()
    assert message in " ".join(form.errors[field])


def test_the_accept_form_takes_a_valid_statement():
    form = accept_form(end_date_visibility_restriction="2038-01-01", explanation="Fake logo.")
    assert form.is_valid(), form.errors


def test_masking_comes_before_cutting_so_the_stored_and_exported_facts_fit(file_case, moderator):
    item = file_case(1).items.get()
    CaseItem.objects.filter(pk=item.pk).update(brand_note=CONTACTS)
    case_services.item_accept(item_id=item.pk, actor=moderator)
    statement = StatementOfReasons.objects.get(item=item)
    assert len(statement.facts) == 5000 and "a@b.ex" not in statement.facts
    data = dsa_statement(dsa_statements_queryset().get(pk=statement.pk))
    assert len(data["decision_facts"]) <= 5000
    assert tdb_statement_problems(data) == {}


def test_a_given_explanation_too_long_once_masked_is_refused_and_nothing_is_saved(file_case, moderator):
    item = file_case(1).items.get()
    with pytest.raises(ValidationError) as exc_info:
        case_services.item_accept(
            item_id=item.pk, actor=moderator, statement=StatementInput(explanation="Write to a@b.ex. " * 100)
        )
    assert "explanation" in exc_info.value.message_dict
    item.refresh_from_db()
    assert item.status == ItemStatus.SUBMITTED
    assert not StatementOfReasons.objects.exists()


def test_a_stored_statement_the_database_would_refuse_is_not_exported(file_case, moderator):
    item = file_case(1).items.get()
    case_services.item_accept(item_id=item.pk, actor=moderator)
    StatementOfReasons.objects.update(application_date=date(2040, 1, 1))
    statement = dsa_statements_queryset().get()
    with pytest.raises(ValidationError) as exc_info:
        dsa_statement(statement)
    assert "application_date" in exc_info.value.message_dict
    assert f"marketsafe-sor-{statement.pk}" in str(exc_info.value)


def test_every_statement_of_the_demo_and_the_test_data_meets_the_databases_rules(file_case, moderator, reporter):
    call_command("seed_demo", stdout=StringIO())
    for status in (ItemStatus.ACCEPTED, ItemStatus.FINAL, ItemStatus.REINSTATED, ItemStatus.APPEALED):
        drive_item_to(file_case(1).items.get(), status, moderator=moderator, brand_user=reporter)
    contacts = file_case(1).items.get()
    CaseItem.objects.filter(pk=contacts.pk).update(brand_note=CONTACTS)
    case_services.item_accept(item_id=contacts.pk, actor=moderator, message="")
    statements = list(dsa_statements_queryset())
    assert len(statements) > 5
    problems = {s.pk: tdb_statement_problems(dsa_statement(s)) for s in statements}
    assert {pk: found for pk, found in problems.items() if found} == {}
