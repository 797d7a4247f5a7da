"""Dutch collection law as pure functions: costs, statutory interest, allocation, business days.

No Django here; money is ``Decimal`` with at most two decimals, never ``float``.
"""

from vaarwater.law.allocation import Allocation, AllocationLine, OpenItem, allocate
from vaarwater.law.calendar import (
    add_business_days,
    business_days_between,
    holiday_name,
    is_business_day,
    is_public_holiday,
    roll_forward,
)
from vaarwater.law.interest import (
    InterestPeriod,
    InterestRate,
    interest_breakdown,
    load_rates,
    statutory_interest,
)
from vaarwater.law.wik import (
    VAT_RATE,
    WIK_MAXIMUM,
    WIK_MINIMUM,
    WKI_CAP_PER_SIX_MONTHS,
    WKI_SMALL_CLAIM_THRESHOLD,
    collection_costs,
    wki_cap,
)

__all__ = [
    "VAT_RATE",
    "WIK_MAXIMUM",
    "WIK_MINIMUM",
    "WKI_CAP_PER_SIX_MONTHS",
    "WKI_SMALL_CLAIM_THRESHOLD",
    "Allocation",
    "AllocationLine",
    "InterestPeriod",
    "InterestRate",
    "OpenItem",
    "add_business_days",
    "allocate",
    "business_days_between",
    "collection_costs",
    "holiday_name",
    "interest_breakdown",
    "is_business_day",
    "is_public_holiday",
    "load_rates",
    "roll_forward",
    "statutory_interest",
    "wki_cap",
]
