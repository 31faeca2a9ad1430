"""The investigations app's models, one module per sub-domain (test purchases, seller networks), imported
here so that Django finds them."""

from investigations.models.dossiers import DossierExport, DossierSubject
from investigations.models.networks import NetworkAction, NetworkActionKind, NetworkActionStatus
from investigations.models.purchases import CustodyEvent, TestPurchase, TestPurchaseAttachment, TestPurchaseFile

__all__ = [
    "CustodyEvent",
    "DossierExport",
    "DossierSubject",
    "NetworkAction",
    "NetworkActionKind",
    "NetworkActionStatus",
    "TestPurchase",
    "TestPurchaseAttachment",
    "TestPurchaseFile",
]
