"""Extrajudicial collection costs: the WIK staffel and the Wki cap on small claims.

The staffel is the Besluit vergoeding voor buitengerechtelijke incassokosten (since 2012-07-01),
applied to the principal (hoofdsom) only; accrued interest is not part of the base.
"""

from decimal import Decimal

from vaarwater.law._money import check_amount, round_cents

VAT_RATE = Decimal("0.21")
WIK_MINIMUM = Decimal("40.00")
WIK_MAXIMUM = Decimal("6775.00")

# (width of the band, rate); ``None`` is the open-ended top band.
WIK_BANDS: tuple[tuple[Decimal | None, Decimal], ...] = (
    (Decimal("2500"), Decimal("0.15")),
    (Decimal("2500"), Decimal("0.10")),
    (Decimal("5000"), Decimal("0.05")),
    (Decimal("190000"), Decimal("0.01")),
    (None, Decimal("0.005")),
)

# Wki, since 2024-10-01: for claims or instalments under this amount per month, the costs are
# capped per six months.
WKI_SMALL_CLAIM_THRESHOLD = Decimal("266.67")
WKI_CAP_PER_SIX_MONTHS = Decimal("140.00")


def collection_costs(principal: Decimal, *, add_vat: bool = False) -> Decimal:
    """Return the WIK collection costs for a principal, optionally with 21% VAT on top.

    The staffel is computed exactly, rounded to cents half up, then held between the minimum
    (€40) and the maximum (€6,775). VAT is added only when the creditor cannot reclaim it.

    >>> collection_costs(Decimal("200"))
    Decimal('40.00')
    >>> collection_costs(Decimal("1000"))
    Decimal('150.00')
    >>> collection_costs(Decimal("6000.00"))  # 375 + 250 + 5% of 1,000
    Decimal('675.00')
    >>> collection_costs(Decimal("1000"), add_vat=True)  # 150.00 + 31.50 VAT
    Decimal('181.50')
    """
    principal = check_amount(principal, name="principal", allow_zero=False)
    costs = Decimal(0)
    rest = principal
    for width, rate in WIK_BANDS:
        part = rest if width is None else min(rest, width)
        costs += part * rate
        rest -= part
        if rest <= 0:
            break
    costs = min(max(round_cents(costs), WIK_MINIMUM), WIK_MAXIMUM)
    if add_vat:
        costs += round_cents(costs * VAT_RATE)
    return costs


def wki_cap(
    costs: Decimal,
    *,
    monthly_amount: Decimal,
    already_charged_in_six_months: Decimal = Decimal(0),
) -> Decimal:
    """Return the costs still allowed after the Wki cap on small claims.

    When the claim or instalment per month is under €266.67, at most €140 in costs may be
    charged per six months; what was already charged in those six months counts against it.

    >>> wki_cap(Decimal("40.00"), monthly_amount=Decimal("100.00"),
    ...         already_charged_in_six_months=Decimal("120.00"))
    Decimal('20.00')
    >>> wki_cap(Decimal("40.00"), monthly_amount=Decimal("266.67"))
    Decimal('40.00')
    """
    costs = check_amount(costs, name="costs")
    monthly_amount = check_amount(monthly_amount, name="monthly_amount")
    already = check_amount(already_charged_in_six_months, name="already_charged_in_six_months")
    if monthly_amount >= WKI_SMALL_CLAIM_THRESHOLD:
        return costs
    room = max(WKI_CAP_PER_SIX_MONTHS - already, Decimal("0.00"))
    return min(costs, room)
