"""The investigations app's models, one module per sub-domain (test purchases, seller networks), imported
here so that Django finds them."""

from investigations.models.dossiers import DossierExport, DossierSubject
from investigations.models.networks import NetworkAction, NetworkActionKind, NetworkActionStatus

__all__ = ["DossierExport", "DossierSubject", "NetworkAction", "NetworkActionKind", "NetworkActionStatus"]
