"""The team: invitations (single use, expiring, token kept only as a hash), roles, removals, the last owner.

Services run against the real database; the invitation e-mail is sent on commit, so tests that need the
link run the commit callbacks and read it from the outbox, exactly where an invitee finds it.
"""

import hashlib
import re
from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from brands.choices import Role
from brands.models import BrandMembership, Invitation
from brands.services import invitations, team
from core.accounts.models import User
from core.audit.models import AuditEvent
from core.errors import Conflict, DomainError
from tests import factories
from tests.concurrency import run_together

pytestmark = pytest.mark.django_db

LINK = re.compile(r"http://testserver/invitations/(?P<token>[A-Za-z0-9_-]+)/")


@pytest.fixture
def invite(brand, owner, django_capture_on_commit_callbacks):
    """invite(email=..., role=...) → (invitation, raw token taken from the e-mail that was sent)."""

    def make(email: str = "rita@example.test", role: str = Role.REPORTER, by=None):
        with django_capture_on_commit_callbacks(execute=True):
            invitation = invitations.invitation_create(
                brand=brand, email=email, role=role, invited_by=by or owner, site_url="http://testserver/"
            )
        token = LINK.search(mail.outbox[-1].body)["token"]
        return invitation, token

    return make


def expire(invitation: Invitation) -> None:
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - timedelta(minutes=1))


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


# --- invitation_create ----------------------------------------------------------------------------


def test_invitation_is_e_mailed_with_a_link_whose_token_is_stored_only_as_its_hash(invite, brand, owner):
    invitation, token = invite(role=Role.VIEWER)

    [message] = mail.outbox
    assert message.to == ["rita@example.test"]
    assert brand.name in message.subject
    assert "Viewer" in message.body
    assert "Read the brand's data." in message.body
    assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest()
    # The raw token is in no column of the invitation and in no audit record.
    row = Invitation.objects.filter(pk=invitation.pk).values().get()
    assert all(token not in str(value) for value in row.values())
    assert all(token not in str(event.data) for event in AuditEvent.objects.all())
    assert len(token) >= 40


def test_invitation_expires_after_seven_days(invite):
    before = timezone.now()
    invitation, _ = invite()
    assert before + timedelta(days=7) <= invitation.expires_at <= timezone.now() + timedelta(days=7)
    assert invitation.status == Invitation.Status.PENDING


def test_invitation_create_is_audited_with_the_brand(invite, brand, owner):
    invitation, _ = invite(role=Role.OWNER)
    [event] = events("invitation.create")
    assert (event.target_id, event.actor, event.brand_id, event.to_state) == (invitation.pk, owner, brand.pk, "pending")
    assert event.data == {"email": "rita@example.test", "role": "owner"}


def test_no_e_mail_leaves_before_the_invitation_is_committed(brand, owner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        invitations.invitation_create(
            brand=brand, email="rita@example.test", role=Role.REPORTER, invited_by=owner, site_url="http://testserver"
        )
    assert mail.outbox == []
    assert len(callbacks) == 1


def test_an_active_member_cannot_be_invited(brand, owner, member_of):
    reporter = member_of(Role.REPORTER)
    with pytest.raises(ValidationError) as error:
        invitations.invitation_create(
            brand=brand, email=reporter.email.upper(), role=Role.OWNER, invited_by=owner, site_url="http://testserver"
        )
    assert "already a member" in error.value.message_dict["email"][0]
    assert not Invitation.objects.exists()


def test_a_second_invitation_while_one_is_pending_is_refused(invite, brand, owner):
    invite(email="rita@example.test")
    with pytest.raises(ValidationError) as error:
        invite(email="Rita@Example.TEST")
    assert "Revoke that invitation" in error.value.message_dict["email"][0]
    assert Invitation.objects.count() == 1


def test_an_expired_invitation_is_replaced_by_a_new_one(invite):
    old, old_token = invite()
    expire(old)

    new, new_token = invite(role=Role.OWNER)

    old.refresh_from_db()
    assert old.revoked_at is not None
    assert new.pk != old.pk and new_token != old_token
    assert list(Invitation.objects.open()) == [new]
    [closed] = events("invitation.revoke")
    assert (closed.target_id, closed.from_state) == (old.pk, "expired")


def test_the_database_holds_one_open_invitation_per_brand_and_address(invite, brand, owner):
    invite(email="rita@example.test")
    with pytest.raises(IntegrityError), transaction.atomic():
        Invitation.objects.create(
            brand=brand,
            email="RITA@example.test",
            role=Role.VIEWER,
            token_hash="f" * 64,
            invited_by=owner,
            expires_at=timezone.now() + timedelta(days=1),
        )
    # Another brand may invite the same address.
    other = factories.BrandFactory()
    invitations.invitation_create(
        brand=other,
        email="rita@example.test",
        role=Role.VIEWER,
        invited_by=factories.MembershipFactory(brand=other).user,
        site_url="http://testserver",
    )


def test_an_unknown_role_is_refused(brand, owner):
    with pytest.raises(ValidationError) as error:
        invitations.invitation_create(
            brand=brand, email="rita@example.test", role="admin", invited_by=owner, site_url="http://testserver"
        )
    assert "role" in error.value.message_dict


# --- invitation_accept / invitation_signup -------------------------------------------------------


def test_accepting_adds_the_membership_with_the_invited_role_and_uses_up_the_link(invite, brand, owner):
    invitation, token = invite(role=Role.VIEWER)
    rita = factories.UserFactory(username="rita")

    membership = invitations.invitation_accept(token=token, user=rita)

    assert (membership.brand, membership.user, membership.role, membership.is_active) == (brand, rita, "viewer", True)
    invitation.refresh_from_db()
    assert invitation.accepted_by == rita and invitation.accepted_at is not None
    assert invitation.status == Invitation.Status.ACCEPTED
    [accepted] = events("invitation.accept")
    [added] = events("membership.add")
    assert accepted.brand_id == added.brand_id == brand.pk
    assert (added.target_id, added.to_state, added.data["invited_by_id"]) == (membership.pk, "viewer", owner.pk)

    with pytest.raises(invitations.InvitationNotUsable) as error:
        invitations.invitation_accept(token=token, user=factories.UserFactory())
    assert (error.value.invitation_status, error.value.status) == ("accepted", 410)
    assert error.value.message == "This invitation has already been used."
    assert BrandMembership.objects.filter(brand=brand).count() == 2


@pytest.mark.parametrize(
    ("spoil", "status"),
    [(expire, "expired"), (lambda i: invitations.invitation_revoke(invitation=i, actor=i.invited_by), "revoked")],
    ids=["expired", "revoked"],
)
def test_an_expired_or_revoked_link_adds_nobody(invite, brand, spoil, status):
    invitation, token = invite()
    spoil(invitation)
    rita = factories.UserFactory(username="rita")

    with pytest.raises(invitations.InvitationNotUsable) as error:
        invitations.invitation_accept(token=token, user=rita)

    assert (error.value.invitation_status, error.value.status) == (status, 410)
    assert not BrandMembership.objects.filter(user=rita).exists()


def test_an_unknown_token_is_invalid(invite):
    _, token = invite()
    with pytest.raises(invitations.InvitationNotUsable) as error:
        invitations.invitation_accept(token=token[:-1], user=factories.UserFactory())
    assert (error.value.invitation_status, error.value.status) == ("invalid", 404)
    assert isinstance(error.value, DomainError) and error.value.message == "This invitation link is not valid."
    assert error.value.invitation is None


def test_accepting_brings_back_a_removed_member_with_the_new_role(invite, brand, owner, member_of):
    rita = member_of(Role.VIEWER)
    membership = BrandMembership.objects.get(user=rita)
    team.membership_remove(membership=membership, actor=owner)
    _, token = invite(email=rita.email, role=Role.REPORTER)

    invitations.invitation_accept(token=token, user=rita)

    membership.refresh_from_db()
    assert (membership.is_active, membership.role) == (True, "reporter")
    assert events("membership.add")[0].from_state == "removed"


def test_an_active_member_accepting_another_invitation_is_told_so_and_the_link_stays_usable(invite, member_of):
    invitation, token = invite(email="someone.else@example.test")
    reporter = member_of(Role.REPORTER)

    with pytest.raises(ValidationError, match="already a member"):
        invitations.invitation_accept(token=token, user=reporter)

    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.PENDING


def test_signup_creates_the_account_with_the_invited_address_and_joins(invite, brand):
    _, token = invite(email="rita@example.test", role=Role.REPORTER)

    user = invitations.invitation_signup(token=token, username="rita", password="a long unguessable phrase")

    assert user.email == "rita@example.test"
    assert user.check_password("a long unguessable phrase")
    assert BrandMembership.objects.get(user=user).role == "reporter"
    assert events("membership.add")[0].data["signed_up"] is True


def test_signup_for_an_address_that_has_an_account_creates_nothing(invite):
    factories.UserFactory(username="rita", email="rita@example.test")
    _, token = invite(email="RITA@example.test")

    with pytest.raises(ValidationError, match="log in to accept"):
        invitations.invitation_signup(token=token, username="rita2", password="a long unguessable phrase")

    assert not User.objects.filter(username="rita2").exists()
    assert Invitation.objects.get().status == Invitation.Status.PENDING


def test_signup_with_an_unusable_link_creates_no_account(invite):
    invitation, token = invite()
    expire(invitation)
    with pytest.raises(invitations.InvitationNotUsable):
        invitations.invitation_signup(token=token, username="rita", password="a long unguessable phrase")
    assert not User.objects.filter(username="rita").exists()


# --- invitation_revoke ----------------------------------------------------------------------------


def test_revoking_is_audited_and_happens_once(invite, brand, owner):
    invitation, _ = invite()
    invitations.invitation_revoke(invitation=invitation, actor=owner)
    [event] = events("invitation.revoke")
    assert (event.from_state, event.to_state, event.actor, event.brand_id) == ("pending", "revoked", owner, brand.pk)
    with pytest.raises(Conflict, match="already revoked"):
        invitations.invitation_revoke(invitation=invitation, actor=owner)


def test_an_accepted_invitation_cannot_be_revoked(invite, owner):
    invitation, token = invite()
    invitations.invitation_accept(token=token, user=factories.UserFactory())
    with pytest.raises(Conflict, match="remove the member"):
        invitations.invitation_revoke(invitation=invitation, actor=owner)


# --- membership_change_role / membership_remove ---------------------------------------------------


def membership(user) -> BrandMembership:
    return BrandMembership.objects.get(user=user)


def test_changing_a_role_is_audited(brand, owner, reporter):
    changed = team.membership_change_role(membership=membership(reporter), role=Role.VIEWER, actor=owner)
    assert changed.role == "viewer"
    [event] = events("membership.change_role")
    assert (event.from_state, event.to_state, event.actor, event.brand_id) == ("reporter", "viewer", owner, brand.pk)


def test_the_same_role_changes_nothing(owner, reporter):
    team.membership_change_role(membership=membership(reporter), role=Role.REPORTER, actor=owner)
    assert events("membership.change_role") == []


def test_the_last_owner_cannot_be_demoted(brand, owner, reporter):
    with pytest.raises(ValidationError) as error:
        team.membership_change_role(membership=membership(owner), role=Role.REPORTER, actor=owner)
    assert "last owner" in error.value.message_dict["role"][0]
    assert membership(owner).role == "owner"


def test_an_owner_can_be_demoted_when_another_remains(brand, owner, member_of):
    second = member_of(Role.OWNER)
    team.membership_change_role(membership=membership(owner), role=Role.VIEWER, actor=second)
    assert membership(owner).role == "viewer"


def test_an_inactive_owner_does_not_count(brand, owner, member_of):
    former = member_of(Role.OWNER)
    BrandMembership.objects.filter(user=former).update(is_active=False)
    with pytest.raises(ValidationError, match="last owner"):
        team.membership_remove(membership=membership(owner), actor=owner)


def test_removing_deactivates_and_ends_access(brand, owner, reporter):
    removed = team.membership_remove(membership=membership(reporter), actor=owner)
    assert removed.is_active is False
    assert not type(brand).objects.for_user(reporter).exists()
    [event] = events("membership.remove")
    assert (event.from_state, event.to_state, event.brand_id) == ("reporter", "removed", brand.pk)
    with pytest.raises(ValidationError, match="no longer a member"):
        team.membership_change_role(membership=removed, role=Role.OWNER, actor=owner)


def test_the_last_owner_cannot_be_removed(owner):
    with pytest.raises(ValidationError, match="last owner"):
        team.membership_remove(membership=membership(owner), actor=owner)
    assert membership(owner).is_active


@pytest.mark.django_db(transaction=True)
def test_two_owners_demoting_each_other_at_once_leave_one_owner():
    brand = factories.BrandFactory()
    ada, bob = (factories.MembershipFactory(brand=brand, role=Role.OWNER) for _ in range(2))

    outcomes = run_together(
        lambda: team.membership_change_role(membership=ada, role=Role.VIEWER, actor=bob.user),
        lambda: team.membership_change_role(membership=bob, role=Role.VIEWER, actor=ada.user),
    )

    assert sorted(kind for kind, _ in outcomes) == ["error", "ok"], outcomes
    [error] = [value for kind, value in outcomes if kind == "error"]
    assert "last owner" in str(error)
    assert BrandMembership.objects.filter(brand=brand, role=Role.OWNER, is_active=True).count() == 1


# --- views ----------------------------------------------------------------------------------------


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client


def test_team_page_lists_members_and_open_invitations(owner_client, brand, reporter, invite):
    invite(email="pending@example.test")
    expired, _ = invite(email="late@example.test")
    expire(expired)
    page = owner_client.get(reverse("brands:team", kwargs={"brand_slug": brand.slug})).content.decode()
    assert reporter.email in page
    assert "pending@example.test" in page and "late@example.test" in page
    assert "Expired" in page
    assert "Revoke" in page


def test_invite_form_explains_its_errors_next_to_the_fields(owner_client, brand):
    response = owner_client.post(reverse("brands:team_invite", kwargs={"brand_slug": brand.slug}), {"email": "nope"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "There are 2 problems" in page
    assert "Enter a valid email address." in page
    assert "Choose the role." in page
    assert 'href="#id_email"' in page and 'href="#id_role_0"' in page
    assert 'aria-invalid="true"' in page
    assert not Invitation.objects.exists()


def test_inviting_through_the_page_sends_the_e_mail(owner_client, brand, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(
            reverse("brands:team_invite", kwargs={"brand_slug": brand.slug}),
            {"email": "rita@example.test", "role": Role.REPORTER},
        )
    assert response.status_code == 302
    assert response["Location"] == reverse("brands:team", kwargs={"brand_slug": brand.slug})
    [message] = mail.outbox
    assert LINK.search(message.body)


def test_inviting_a_member_shows_the_reason_on_the_email_field(owner_client, brand, reporter):
    response = owner_client.post(
        reverse("brands:team_invite", kwargs={"brand_slug": brand.slug}), {"email": reporter.email, "role": "viewer"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["email"][0].endswith(f"({reporter}, Reporter).")


def test_demoting_the_last_owner_shows_why_on_the_form(owner_client, brand, owner):
    url = reverse("brands:member_update", kwargs={"brand_slug": brand.slug, "pk": membership(owner).pk})
    response = owner_client.post(url, {"role": Role.VIEWER})
    assert response.status_code == 200
    assert "is the last owner of" in response.context["form"].errors["role"][0]
    assert membership(owner).role == "owner"


def test_removing_the_last_owner_is_refused_with_a_message(owner_client, brand, owner):
    url = reverse("brands:member_remove", kwargs={"brand_slug": brand.slug, "pk": membership(owner).pk})
    response = owner_client.post(url)
    assert response.status_code == 400
    assert "is the last owner of" in response.content.decode()


def test_an_owner_who_steps_down_goes_to_the_overview(owner_client, brand, owner, member_of):
    member_of(Role.OWNER)
    url = reverse("brands:member_update", kwargs={"brand_slug": brand.slug, "pk": membership(owner).pk})
    response = owner_client.post(url, {"role": Role.REPORTER})
    assert response["Location"] == reverse("brands:overview", kwargs={"brand_slug": brand.slug})


def test_an_owner_who_leaves_goes_home(owner_client, brand, owner, member_of):
    member_of(Role.OWNER)
    url = reverse("brands:member_remove", kwargs={"brand_slug": brand.slug, "pk": membership(owner).pk})
    response = owner_client.post(url)
    assert response["Location"] == reverse("home")
    assert owner_client.get(reverse("brands:overview", kwargs={"brand_slug": brand.slug})).status_code == 404


def test_a_removed_member_has_no_page_to_change(owner_client, brand, owner, reporter):
    team.membership_remove(membership=membership(reporter), actor=owner)
    url = reverse("brands:member_update", kwargs={"brand_slug": brand.slug, "pk": membership(reporter).pk})
    assert owner_client.get(url).status_code == 404


def test_revoking_an_accepted_invitation_through_the_page_says_why(owner_client, brand, invite):
    invitation, token = invite()
    invitations.invitation_accept(token=token, user=factories.UserFactory())
    url = reverse("brands:invitation_revoke", kwargs={"brand_slug": brand.slug, "pk": invitation.pk})
    response = owner_client.post(url, follow=True)
    assert "already accepted" in response.content.decode()


# --- the invitee's page ---------------------------------------------------------------------------


def accept_url(token: str) -> str:
    return reverse("invitation_accept", kwargs={"token": token})


def test_opening_the_link_shows_the_offer_and_changes_nothing(client, invite, brand):
    _, token = invite(role=Role.REPORTER)
    response = client.get(accept_url(token))
    page = response.content.decode()
    assert response.status_code == 200
    assert f"Join {brand.name}" in page
    assert "reporter" in page
    assert f'href="{reverse("login")}?next={accept_url(token)}"' in page
    assert "Create account and join" in page
    assert response["Cache-Control"].startswith("max-age=0")
    assert Invitation.objects.get().status == Invitation.Status.PENDING


def test_a_logged_in_user_accepts_with_one_click(client, invite, brand):
    _, token = invite(role=Role.VIEWER)
    rita = factories.UserFactory(username="rita")
    client.force_login(rita)
    assert "Accept and join" in client.get(accept_url(token)).content.decode()

    response = client.post(accept_url(token))

    assert response["Location"] == reverse("brands:overview", kwargs={"brand_slug": brand.slug})
    assert membership(rita).role == "viewer"
    assert client.get(response["Location"]).status_code == 200


def test_a_newcomer_creates_an_account_and_is_logged_in(client, invite, brand):
    _, token = invite(email="newcomer@example.test", role=Role.REPORTER)
    response = client.post(
        accept_url(token),
        {"username": "newcomer", "password1": "a long unguessable phrase", "password2": "a long unguessable phrase"},
    )
    assert response.status_code == 302
    user = User.objects.get(username="newcomer")
    assert user.email == "newcomer@example.test"
    assert membership(user).role == "reporter"
    assert client.get(response["Location"]).status_code == 200  # logged in, and a member


def test_signup_errors_are_shown_next_to_their_fields(client, invite):
    _, token = invite()
    factories.UserFactory(username="taken")
    response = client.post(accept_url(token), {"username": "TAKEN", "password1": "short", "password2": "other"})
    assert response.status_code == 400
    errors = response.context["signup_form"].errors
    assert "already exists" in errors["username"][0]
    assert errors["password2"][0].startswith("The two password fields didn")
    assert "There are 2 problems" in response.content.decode()
    assert Invitation.objects.get().status == Invitation.Status.PENDING


def test_a_newcomer_whose_address_has_an_account_is_asked_to_log_in(client, invite):
    factories.UserFactory(username="rita", email="rita@example.test")
    _, token = invite(email="rita@example.test")
    response = client.post(
        accept_url(token),
        {"username": "rita-new", "password1": "a long unguessable phrase", "password2": "a long unguessable phrase"},
    )
    assert response.status_code == 400
    assert "log in to accept" in response.content.decode()


@pytest.mark.parametrize(
    ("spoil", "status", "heading"),
    [
        (expire, 410, "This invitation has expired"),
        (
            lambda i: invitations.invitation_revoke(invitation=i, actor=i.invited_by),
            410,
            "This invitation was withdrawn",
        ),
        (
            lambda i: invitations.invitation_accept(token=i.raw_token, user=factories.UserFactory()),
            410,
            "This invitation has already been used",
        ),
    ],
    ids=["expired", "revoked", "used"],
)
def test_an_unusable_link_answers_with_a_page_that_says_why(client, invite, spoil, status, heading):
    invitation, token = invite()
    invitation.raw_token = token
    spoil(invitation)
    for response in (client.get(accept_url(token)), client.post(accept_url(token))):
        assert response.status_code == status
        assert heading in response.content.decode()


def test_a_mangled_link_is_not_valid(client, invite):
    _, token = invite()
    response = client.get(accept_url(token[:20]))
    assert response.status_code == 404
    assert "This invitation link is not valid" in response.content.decode()


def test_a_link_clicked_twice_is_used_once(client, invite):
    _, token = invite()
    client.force_login(factories.UserFactory(username="rita"))
    assert client.post(accept_url(token)).status_code == 302
    assert client.post(accept_url(token)).status_code == 410
