"""The marketplace side in the admin, by sub-domain: marketplace data (`marketplace`), the repeat-infringer
policy (`penalties`) and delisting jobs (`delisting`); `filters` narrows lists to one job's rows.

State changes happen only through services (`listings.services`, `listings.penalties`,
`listings.delisting`). Importing this package registers every model admin.
"""

from listings.admin.delisting import JOB_OPERATIONS, MANAGE_JOBS_PERMISSION, DelistJobAdmin, JobOperation
from listings.admin.filters import DelistOutcomeFilter
from listings.admin.marketplace import ListingAdmin, MarketplaceAdmin, SellerAdmin
from listings.admin.penalties import (
    EDIT_POLICY_PERMISSION,
    LIFT_PENALTIES_PERMISSION,
    PenaltyPolicyAdmin,
    SellerPenaltyAdmin,
)

__all__ = [
    "EDIT_POLICY_PERMISSION",
    "JOB_OPERATIONS",
    "LIFT_PENALTIES_PERMISSION",
    "MANAGE_JOBS_PERMISSION",
    "DelistJobAdmin",
    "DelistOutcomeFilter",
    "JobOperation",
    "ListingAdmin",
    "MarketplaceAdmin",
    "PenaltyPolicyAdmin",
    "SellerAdmin",
    "SellerPenaltyAdmin",
]
