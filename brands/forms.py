"""Forms of the brand pages. They validate input; the services in `brands.services` make the changes.

Every form says what is wrong in words that name the field ("Enter the registration number", "18 is not
a Nice class: classes run from 1 to 45"), marks optional fields as optional, and is rendered by
`templates/brands/includes/form.html`: an error summary linking to each field, then each field with its
label, help and errors (Django adds aria-describedby and aria-invalid).
"""

from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.forms import SetPasswordMixin, UserCreationForm
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.functional import lazy

from brands.choices import DocumentKind, Role
from brands.models import IPRight, ProgramApplication
from brands.services.invitations import role_description
from core.accounts.models import User
from core.uploads import CheckedUpload, check_upload

#: Nice classification: goods and services classes of trademarks.
NICE_CLASSES = range(1, 46)


class PortalFormMixin:
    """Plain-language "required" messages and "(optional)" labels for every field of a form."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            label = str(field.label or name.replace("_", " "))
            if field.required:
                verb = "Choose" if isinstance(field, forms.ChoiceField) else "Enter"
                if isinstance(field, forms.FileField):
                    verb = "Attach"
                field.error_messages["required"] = f"{verb} the {label[0].lower()}{label[1:]}."
            elif not label.endswith("(optional)"):
                field.label = f"{label} (optional)"


def role_choices() -> list[tuple[str, str]]:
    return [(role.value, f"{role.label}: {role_description(role)}") for role in Role]


class InvitationForm(PortalFormMixin, forms.Form):
    email = forms.EmailField(
        label="E-mail address",
        help_text="The invitation link is sent here. It works once, for 7 days.",
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )
    role = forms.ChoiceField(label="Role", choices=role_choices, widget=forms.RadioSelect, initial=Role.REPORTER)


class MembershipRoleForm(PortalFormMixin, forms.Form):
    role = forms.ChoiceField(label="Role", choices=role_choices, widget=forms.RadioSelect)


def document_help(purpose: str = "") -> str:
    limit = settings.FILE_UPLOAD_MAX_BYTES / 1_048_576
    return f"PDF, PNG, JPEG or WebP, up to {limit:.0f} MiB.{f' {purpose}' if purpose else ''}"


def checked_upload(file: Any) -> CheckedUpload | None:
    """A form field's uploaded file checked by content, extension and size (None when there is none)."""
    return check_upload(file) if file else None


class IPRightForm(PortalFormMixin, forms.ModelForm):
    """The registration details of a right, as the office registered them."""

    class Meta:
        model = IPRight
        fields = (
            "kind",
            "name",
            "registration_number",
            "office",
            "owner_name",
            "classes",
            "valid_from",
            "valid_until",
        )
        labels = {
            "kind": "Kind of right",
            "name": "Name",
            "registration_number": "Registration number",
            "office": "Office or jurisdiction",
            "owner_name": "Registered owner",
            "classes": "Nice classes",
            "valid_from": "Valid from",
            "valid_until": "Valid until",
        }
        help_texts = {
            "name": "The mark, work, design or invention exactly as registered.",
            "office": "The registering office, e.g. EUIPO, USPTO, WIPO, DPMA.",
            "owner_name": "As on the registration certificate. If it is not your company, upload an authorisation.",
            "classes": "Trademarks and designs: the class numbers, separated by commas, e.g. 18, 25.",
            "valid_until": "Leave empty if the right does not expire. We show how long it has left.",
        }
        widgets = {
            "valid_from": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "valid_until": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["classes"].error_messages["item_invalid"] = "Entry %(nth)s of the list: "
        self.fields["classes"].widget.attrs["inputmode"] = "numeric"
        # ArrayField's callable default makes Django add a hidden "initial" copy of the field; nothing uses it.
        self.fields["classes"].show_hidden_initial = False
        for name in ("name", "registration_number", "office", "owner_name"):
            self.fields[name].widget.attrs["autocomplete"] = "off"

    def clean_classes(self) -> list[int]:
        classes = self.cleaned_data.get("classes") or []
        outside = [number for number in classes if number not in NICE_CLASSES]
        if outside:
            verb = "is not a Nice class" if len(outside) == 1 else "are not Nice classes"
            raise ValidationError(f"{', '.join(map(str, outside))} {verb}: classes run from 1 to 45.")
        return classes

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        valid_from, valid_until = cleaned.get("valid_from"), cleaned.get("valid_until")
        if valid_from and valid_until and valid_until < valid_from:
            self.add_error("valid_until", f"The end of validity is before its start ({valid_from:%Y-%m-%d}).")
        if valid_from and valid_from > timezone.localdate():
            self.add_error("valid_from", "A registration cannot start in the future; check the date.")
        return cleaned

    def _post_clean(self) -> None:
        # The form only cleans values; the services check the model's rules (validity order, one right per
        # registration). The model validation ModelForm would run here would repeat the first as a bare
        # "constraint violated" message and skip the second (the brand is not a form field).
        pass

    def registration_data(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self._meta.fields}


class IPRightCreateForm(IPRightForm):
    document = forms.FileField(
        label="Registration certificate",
        required=False,
        allow_empty_file=True,  # check_upload refuses it, naming the file
        help_text=lazy(document_help, str)("Marketplace staff verify the right with it."),
    )

    def clean_document(self) -> CheckedUpload | None:
        return checked_upload(self.cleaned_data.get("document"))


class IPRightDocumentForm(PortalFormMixin, forms.Form):
    file = forms.FileField(
        label="Document",
        help_text=lazy(document_help, str)(),
        allow_empty_file=True,  # check_upload refuses it, naming the file
    )
    kind = forms.ChoiceField(label="Kind of document", choices=DocumentKind.choices, initial=DocumentKind.CERTIFICATE)

    def clean_file(self) -> CheckedUpload | None:
        return checked_upload(self.cleaned_data.get("file"))


class IPRightRetireForm(PortalFormMixin, forms.Form):
    reason = forms.CharField(
        label="Why is it retired?",
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="For example: not renewed, assigned to another company. Kept in the right's history.",
    )


class InvitationSignupForm(PortalFormMixin, UserCreationForm):
    """A new account for an invitee; its e-mail address is the invitation's."""

    password1, password2 = SetPasswordMixin.create_password_fields(label1="Password", label2="Password again")

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username",)
        help_texts = {"username": "What you will log in with: up to 150 letters, digits and @ . + - _"}

    def __init__(self, *args: Any, email: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The password validators compare the password with the account's e-mail address too.
        self.instance.email = email


class ProgramApplicationForm(PortalFormMixin, forms.ModelForm):
    """An owner's application to the MarketSafe program: saved as a draft, or submitted with the attestation.

    The rights offered are the brand's usable ones (verified, current): only those can be covered.
    """

    rights = forms.ModelMultipleChoiceField(
        label="IP rights the membership covers",
        queryset=IPRight.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Only verified, current rights are listed. Choose at least one before submitting.",
    )
    document = forms.FileField(
        label="Supporting document",
        required=False,
        allow_empty_file=True,  # check_upload refuses it, naming the file
        help_text=lazy(document_help, str)(
            "For example your association membership certificate or your enforcement procedure."
        ),
    )
    response = forms.CharField(
        label="Your answer to the association's request",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    attest = forms.BooleanField(
        label="I attest that the information above is accurate, that the rights listed belong to this brand or it"
        " is authorised to enforce them, and that our notices are checked before they are filed.",
        required=False,
        help_text="Required to submit; a draft can be saved without it.",
    )

    class Meta:
        model = ProgramApplication
        fields = ("company_name", "association_member_number", "contact_name", "contact_email", "enforcement_statement")
        labels = {
            "company_name": "Company name",
            "association_member_number": "Association membership number",
            "contact_name": "Contact person",
            "contact_email": "Contact e-mail address",
            "enforcement_statement": "Your enforcement practice",
        }
        help_texts = {
            "association_member_number": "If your company is a member of the association.",
            "contact_email": "Decisions, warnings and renewal reminders are sent here and to the brand's owners.",
            "enforcement_statement": "How you find infringing listings and check them before you report them.",
        }
        widgets = {"enforcement_statement": forms.Textarea(attrs={"rows": 5})}

    def __init__(self, *args: Any, brand: Any, open_request: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Optional for a draft, required to submit (the service says so): not labelled "(optional)".
        for name in ("rights", "attest", "response"):
            self.fields[name].label = str(self.fields[name].label).removesuffix(" (optional)")
        self.fields["rights"].queryset = IPRight.objects.filter(brand=brand).usable().order_by("name", "pk")
        if self.instance.pk:
            self.initial.setdefault("rights", list(self.instance.rights.values_list("pk", flat=True)))
        if open_request is None:
            del self.fields["response"]
        else:
            self.fields["response"].initial = open_request.response
            self.fields["response"].help_text = f"The association asked: {open_request.message}"

    def clean_document(self) -> CheckedUpload | None:
        return checked_upload(self.cleaned_data.get("document"))

    def _post_clean(self) -> None:
        # The service checks the application's rules (see IPRightForm._post_clean).
        pass

    def application_data(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self._meta.fields}
