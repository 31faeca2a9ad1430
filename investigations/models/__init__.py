"""The investigations app's models, one module per sub-domain (test purchases, seller networks), imported
here so that Django finds them."""

from investigations.models.purchases import (
    CustodyEvent,
    TestPurchase,
    TestPurchaseAttachment,
    TestPurchaseFile,
)

__all__ = ["CustodyEvent", "TestPurchase", "TestPurchaseAttachment", "TestPurchaseFile"]
