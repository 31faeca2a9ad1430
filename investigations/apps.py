"""The investigations app: test purchases with their chain of custody, seller networks and referral dossiers
(issue 19). It sits above cases and detection and below the edge apps."""

from django.apps import AppConfig


class InvestigationsConfig(AppConfig):
    name = "investigations"
    label = "investigations"
    verbose_name = "Investigations"

    def ready(self) -> None:
        from cases.proofs import ProofSource, register_proof_source
        from investigations.services import purchases

        # A counterfeit verdict backs a filing (cases never imports investigations).
        register_proof_source(ProofSource(check=purchases.proofs_check, attach=purchases.proofs_attach))

        # Seller networks: the delisting engine's selection kind of a whole network.
        from investigations.services import networks

        networks.register()
