"""Serializers of the IP rights registry endpoints. Input is validated by the registry's web forms
(`brands.forms`), so the API refuses what the pages refuse, with the same words."""

from rest_framework import serializers

from brands.choices import DocumentKind, IPRightKind
from brands.models import IPRight, IPRightDocument
from brands.services.rights import REGISTRATION_FIELDS
from core.api.serializers import DOCUMENT_FIELDS

__all__ = ["IPRightDocumentInputSerializer", "IPRightDocumentSerializer", "IPRightInputSerializer", "IPRightSerializer"]


class IPRightDocumentSerializer(serializers.ModelSerializer):
    class Meta:
        model = IPRightDocument
        fields = DOCUMENT_FIELDS


class IPRightSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="brands-api:ip-right-detail")
    documents = IPRightDocumentSerializer(many=True, read_only=True)

    class Meta:
        model = IPRight
        fields = (
            "id",
            "url",
            *REGISTRATION_FIELDS,
            "status",
            "verified_at",
            "retired_at",
            "created_at",
            "documents",
        )


class IPRightDetailsInputSerializer(serializers.Serializer):
    """A right's registration details; a change to a right that is not pending sends it back to pending.
    As JSON (and in a change) the body has these only: a JSON body cannot carry the certificate file."""

    kind = serializers.ChoiceField(choices=IPRightKind.choices)
    name = serializers.CharField(max_length=200)
    registration_number = serializers.CharField(max_length=80)
    office = serializers.CharField(max_length=40)
    owner_name = serializers.CharField(max_length=250)
    classes = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=45),
        required=False,
        default=list,
        help_text="Nice classes (1 to 45).",
    )
    valid_from = serializers.DateField(required=False, allow_null=True, default=None)
    valid_until = serializers.DateField(required=False, allow_null=True, default=None)


class IPRightInputSerializer(IPRightDetailsInputSerializer):
    """A new right's details, with its certificate when sent as multipart."""

    document = serializers.FileField(
        required=False, help_text="Registration certificate (multipart; on creation only): PDF, PNG, JPEG or WebP."
    )


class IPRightDocumentInputSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="PDF, PNG, JPEG or WebP.")
    kind = serializers.ChoiceField(choices=DocumentKind.choices, default=DocumentKind.CERTIFICATE)
