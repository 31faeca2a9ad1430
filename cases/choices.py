"""Choices of notices (cases) and their items, with the fixed texts that go with them.

Reason and rejection codes follow the research notes (eBay VeRO, Amazon, Lumen); the statement-of-reasons
values are the EU DSA Transparency Database's own, so exports need no translation.
"""

from django.db import models

#: The outbox topic (`core.outbox`) of every item status change: `publish(ITEM_STATUS_CHANGED, items,
#: from_status=...)` inside the changing transaction; the integrations app turns it into webhooks.
ITEM_STATUS_CHANGED = "cases.item_status_changed"
#: The outbox topic of evidence files stored (a filing's, or a brand's answer to a counter-notice):
#: `publish(EVIDENCE_STORED, evidence)` in the storing transaction; detection hashes the images.
EVIDENCE_STORED = "cases.evidence_stored"


class ReasonCode(models.TextChoices):
    COUNTERFEIT = "counterfeit", "Counterfeit goods bearing the mark"
    COUNTERFEIT_TEST_PURCHASE = "counterfeit_test_purchase", "Counterfeit confirmed by test purchase"
    TRADEMARK_TITLE = "trademark_title", "Trademark misuse in title or description"
    TRADEMARK_IMAGE = "trademark_image", "Unauthorised logo in images"
    COPYRIGHT = "copyright", "Copyrighted images or text"
    DESIGN = "design", "Design infringement"
    PATENT = "patent", "Patent infringement"
    UNLAWFUL_IMPORT = "unlawful_import", "Unlawful importation"
    STOREFRONT = "storefront", "Storefront or shop-name infringement"
    OTHER = "other", "Other"


#: Reason codes for which evidence stays required even in the expedited lane: what they claim cannot be
#: seen on the listing itself.
EVIDENCE_ALWAYS_REQUIRED = frozenset({ReasonCode.PATENT, ReasonCode.UNLAWFUL_IMPORT, ReasonCode.OTHER})

#: Reason codes a filing may choose only with proof attached to every item: a counterfeit verdict of a test
#: purchase of the brand on that listing or its seller (`cases.proofs`, filled by the investigations app).
#: The general filing form does not offer them; the test purchase's page files with its purchase attached.
PROOF_REQUIRED = frozenset({ReasonCode.COUNTERFEIT_TEST_PURCHASE})
#: The reasons a filing form (and the filing API) offers: those needing no proof on every item.
FILING_REASON_CHOICES = [(code, label) for code, label in ReasonCode.choices if code not in PROOF_REQUIRED]

#: Final removals that give the seller a strike, and how much the strike weighs in the penalty ladder
#: (`listings.penalties` sums the weights of active strikes): a counterfeit confirmed by a test purchase
#: weighs double.
STRIKE_WEIGHTS: dict[str, int] = {ReasonCode.COUNTERFEIT: 1, ReasonCode.COUNTERFEIT_TEST_PURCHASE: 2}


class Channel(models.TextChoices):
    WEB = "web", "Web form"
    CSV = "csv", "CSV upload"
    API = "api", "API"


class CaseStatus(models.TextChoices):
    """The aggregate of a case's items."""

    RECEIVED = "received", "Received"
    IN_REVIEW = "in_review", "In review"
    PROCESSED = "processed", "Processed"


class ItemStatus(models.TextChoices):
    SUBMITTED = "submitted", "Submitted"
    IN_REVIEW = "in_review", "In review"
    CLARIFICATION_REQUESTED = "clarification_requested", "Clarification requested"
    ACCEPTED = "accepted", "Accepted: listing removed"
    REJECTED = "rejected", "Rejected"
    COUNTER_NOTICED = "counter_noticed", "Counter-notice received"
    UPHELD = "upheld", "Removal upheld"
    FINAL = "final", "Removal final"
    REINSTATED = "reinstated", "Listing reinstated"
    APPEALED = "appealed", "Under appeal"
    WITHDRAWN = "withdrawn", "Withdrawn"


#: Items still waiting for a first decision: a brand may not report the same listing again meanwhile.
ITEM_OPEN_STATUSES = (ItemStatus.SUBMITTED, ItemStatus.IN_REVIEW, ItemStatus.CLARIFICATION_REQUESTED)
#: Items whose listing is (still) removed because of them.
ITEM_REMOVAL_STATUSES = (ItemStatus.ACCEPTED, ItemStatus.COUNTER_NOTICED, ItemStatus.UPHELD, ItemStatus.FINAL)
#: Decisions either side may appeal within the appeal window.
ITEM_APPEALABLE_STATUSES = (
    ItemStatus.ACCEPTED,
    ItemStatus.REJECTED,
    ItemStatus.UPHELD,
    ItemStatus.FINAL,
    ItemStatus.REINSTATED,
)


class RejectionCode(models.TextChoices):
    INSUFFICIENT_EVIDENCE = "insufficient_evidence", "Insufficient evidence"
    LISTING_NOT_FOUND = "listing_not_found", "Listing not found"
    AUTHORISED_SELLER = "authorised_seller", "Seller is authorised or goods are genuine"
    RIGHT_NOT_APPLICABLE = "right_not_applicable", "IP right not valid for this listing"
    WRONG_REASON = "wrong_reason", "Wrong reason code"
    DUPLICATE = "duplicate", "Duplicate notice"
    INCOMPLETE = "incomplete", "Notice incomplete"


#: What the brand sees under a rejection: how to fix the notice before filing or resubmitting again.
REJECTION_FIX_GUIDANCE: dict[str, str] = {
    RejectionCode.INSUFFICIENT_EVIDENCE: (
        "Attach evidence that shows the infringement: a test purchase report, screenshots with the infringing "
        "element marked, or an authentication report."
    ),
    RejectionCode.LISTING_NOT_FOUND: (
        "Check the listing URL: it must open the listing itself, not a search or a store page. If the listing "
        "was already taken down, no action is needed."
    ),
    RejectionCode.AUTHORISED_SELLER: (
        "Check your distribution records: this seller showed an authorisation or invoices for genuine goods. "
        "If the authorisation has ended, file again with proof of its end."
    ),
    RejectionCode.RIGHT_NOT_APPLICABLE: (
        "Rely on a verified right that is valid for this product's class and the marketplace's jurisdiction, or "
        "register the right first."
    ),
    RejectionCode.WRONG_REASON: "File again with the reason code that matches what the listing does.",
    RejectionCode.DUPLICATE: "This listing is already handled in another notice; follow that one instead.",
    RejectionCode.INCOMPLETE: (
        "Complete the explanation: say which right is infringed, where on the listing, and why it is unlawful."
    ),
}


class DeclarationKind(models.TextChoices):
    GOOD_FAITH = "good_faith", "Good faith"
    ACCURACY = "accuracy", "Accuracy"
    AUTHORITY = "authority", "Authority to act"


#: The exact wording a signer agrees to; stored with each declaration so later rewording changes nothing.
DECLARATION_TEXT: dict[str, str] = {
    DeclarationKind.GOOD_FAITH: (
        "I have a good-faith belief that use of the material in the manner complained of is not authorised "
        "by the rights owner, its agent or the law."
    ),
    DeclarationKind.ACCURACY: "The information in this notice is accurate and complete.",
    DeclarationKind.AUTHORITY: (
        "I am the rights owner or authorised to act on behalf of the owner of the rights relied on."
    ),
}


class EvidenceKind(models.TextChoices):
    SCREENSHOT = "screenshot", "Screenshot"
    TEST_PURCHASE = "test_purchase", "Test purchase report"
    AUTHENTICATION = "authentication", "Authentication report"
    ORDER = "order", "Order or invoice"
    OTHER = "other", "Other"


class CounterNoticeReason(models.TextChoices):
    OWNER = "owner", "The seller owns the rights"
    AUTHORIZED = "authorized", "The seller is authorised"
    GENUINE = "genuine", "Genuine goods (invoice attached)"
    NO_RIGHT = "no_right", "The complainant has no right"
    FAIR_USE = "fair_use", "Fair use or exception"
    NOT_USED = "not_used", "The right is not used in the listing"
    OTHER = "other", "Other"


class CounterNoticeAnswer(models.TextChoices):
    PENDING = "pending", "Waiting for the brand"
    ACCEPTED = "accepted", "Brand accepted: listing reinstated"
    REJECTED = "rejected", "Brand rejected with evidence: removal upheld"
    LAPSED = "lapsed", "Brand did not answer in time: listing reinstated"


class AppellantSide(models.TextChoices):
    BRAND = "brand", "Brand"
    SELLER = "seller", "Seller"


class AppealStatus(models.TextChoices):
    OPEN = "open", "Open"
    UPHELD = "upheld", "Decision upheld"
    OVERTURNED = "overturned", "Decision overturned"


# EU DSA Transparency Database values (statement of reasons).
class DecisionVisibility(models.TextChoices):
    CONTENT_REMOVED = "DECISION_VISIBILITY_CONTENT_REMOVED", "Content removed"
    CONTENT_DISABLED = "DECISION_VISIBILITY_CONTENT_DISABLED", "Content disabled"
    CONTENT_DEMOTED = "DECISION_VISIBILITY_CONTENT_DEMOTED", "Content demoted"
    OTHER = "DECISION_VISIBILITY_OTHER", "Other"


class DecisionGround(models.TextChoices):
    ILLEGAL_CONTENT = "DECISION_GROUND_ILLEGAL_CONTENT", "Illegal content"
    INCOMPATIBLE_CONTENT = "DECISION_GROUND_INCOMPATIBLE_CONTENT", "Incompatible with terms and conditions"


class AutomatedDecision(models.TextChoices):
    FULLY = "AUTOMATED_DECISION_FULLY", "Fully automated"
    PARTIALLY = "AUTOMATED_DECISION_PARTIALLY", "Partially automated"
    NOT_AUTOMATED = "AUTOMATED_DECISION_NOT_AUTOMATED", "Not automated"


class SourceType(models.TextChoices):
    ARTICLE_16 = "SOURCE_ARTICLE_16", "Notice under Article 16"
    TRUSTED_FLAGGER = "SOURCE_TRUSTED_FLAGGER", "Trusted flagger"
    VOLUNTARY = "SOURCE_VOLUNTARY", "Own initiative"


DSA_CATEGORY_IP = "STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS"

#: DSA category_specification keyword for each reason code.
DSA_KEYWORDS: dict[str, str] = {
    ReasonCode.COUNTERFEIT: "KEYWORD_TRADEMARK_INFRINGEMENT",
    ReasonCode.COUNTERFEIT_TEST_PURCHASE: "KEYWORD_TRADEMARK_INFRINGEMENT",
    ReasonCode.TRADEMARK_TITLE: "KEYWORD_TRADEMARK_INFRINGEMENT",
    ReasonCode.TRADEMARK_IMAGE: "KEYWORD_TRADEMARK_INFRINGEMENT",
    ReasonCode.STOREFRONT: "KEYWORD_TRADEMARK_INFRINGEMENT",
    ReasonCode.COPYRIGHT: "KEYWORD_COPYRIGHT_INFRINGEMENT",
    ReasonCode.DESIGN: "KEYWORD_DESIGN_INFRINGEMENT",
    ReasonCode.PATENT: "KEYWORD_PATENT_INFRINGEMENT",
    ReasonCode.UNLAWFUL_IMPORT: "KEYWORD_TRADEMARK_INFRINGEMENT",
    ReasonCode.OTHER: "KEYWORD_INAUTHENTIC_LISTINGS",
}


class Redress(models.TextChoices):
    INTERNAL_MECHANISM = "REDRESS_INTERNAL_MECHANISM", "Internal complaint-handling"
    OUT_OF_COURT = "REDRESS_OUT_OF_COURT_SETTLEMENT", "Out-of-court dispute settlement"
    JUDICIAL = "REDRESS_JUDICIAL_REDRESS", "Judicial redress"


# --- DSA statements of reasons ----------------------------------------------------------------------

_TRADE_MARK = "Trade mark infringement: Regulation (EU) 2017/1001, Art. 9; Directive (EU) 2015/2436, Art. 10."

#: The legal ground (DSA `illegal_content_legal_ground`) each reason code relies on, as the seller reads it.
LEGAL_GROUNDS: dict[str, str] = {
    ReasonCode.COUNTERFEIT: f"Counterfeit goods. {_TRADE_MARK}",
    ReasonCode.COUNTERFEIT_TEST_PURCHASE: f"Counterfeit goods, confirmed by a test purchase. {_TRADE_MARK}",
    ReasonCode.TRADEMARK_TITLE: _TRADE_MARK,
    ReasonCode.TRADEMARK_IMAGE: _TRADE_MARK,
    ReasonCode.STOREFRONT: _TRADE_MARK,
    ReasonCode.COPYRIGHT: "Copyright infringement: Directive 2001/29/EC, Arts. 2 to 4.",
    ReasonCode.DESIGN: "Design infringement: Regulation (EC) No 6/2002, Art. 19; Directive 98/71/EC, Art. 12.",
    ReasonCode.PATENT: "Patent infringement under the national patent law of the territory concerned.",
    ReasonCode.UNLAWFUL_IMPORT: (
        "Import of goods infringing a trade mark: Regulation (EU) 2017/1001, Art. 9(3)(c); Regulation (EU) No 608/2013."
    ),
    ReasonCode.OTHER: "Infringement of the intellectual property right relied on in the notice.",
}

#: Countries a DSA statement's `territorial_scope` may name: the EU and the EEA.
EEA_COUNTRIES = frozenset(
    {
        *("AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE"),
        *("IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK"),
        *("IS", "LI", "NO"),
    }
)

#: The DSA Transparency Database's length limits, by field.
STATEMENT_MAX_LENGTHS = {"legal_ground": 500, "explanation": 2000, "facts": 5000}
