from decimal import Decimal

import pytest

from vaarwater.law import (
    VAT_RATE,
    WIK_MAXIMUM,
    WIK_MINIMUM,
    WKI_CAP_PER_SIX_MONTHS,
    WKI_SMALL_CLAIM_THRESHOLD,
    collection_costs,
    wki_cap,
)


def test_constants():
    """The statutory amounts are the published ones."""
    constants = (
        VAT_RATE,
        WIK_MINIMUM,
        WIK_MAXIMUM,
        WKI_SMALL_CLAIM_THRESHOLD,
        WKI_CAP_PER_SIX_MONTHS,
    )
    assert constants == tuple(Decimal(v) for v in ("0.21", "40.00", "6775.00", "266.67", "140"))


@pytest.mark.parametrize(
    ("principal", "costs"),
    [
        ("200", "40.00"),
        ("1000", "150.00"),
        ("6000", "675.00"),
        ("10000", "875.00"),
    ],
)
def test_design_examples(principal, costs):
    """The worked examples of DESIGN §3 come out exactly."""
    assert collection_costs(Decimal(principal)) == Decimal(costs)


@pytest.mark.parametrize(
    ("principal", "costs"),
    [
        ("0.01", "40.00"),  # minimum
        ("266.66", "40.00"),  # 39.999 → minimum
        ("266.67", "40.00"),  # 40.0005 → 40.00: 15% meets the minimum
        ("266.68", "40.00"),  # 40.002
        ("266.70", "40.01"),  # 40.005 rounds half up
        ("2499.99", "375.00"),  # 374.9985
        ("2500.00", "375.00"),  # 15% of 2,500
        ("2500.01", "375.00"),  # 375 + 0.001
        ("2500.05", "375.01"),  # 375 + 0.005 rounds half up
        ("3000", "425.00"),  # 375 + 10% of 500
        ("4999.99", "625.00"),  # 375 + 249.999
        ("5000.00", "625.00"),  # 375 + 250
        ("5000.01", "625.00"),  # 625 + 0.0005
        ("9999.99", "875.00"),  # 625 + 249.9995
        ("10000.00", "875.00"),  # 625 + 250
        ("10000.01", "875.00"),  # 875 + 0.0001
        ("150000", "2275.00"),  # 875 + 1% of 140,000
        ("199999.99", "2775.00"),  # 875 + 1899.9999
        ("200000.00", "2775.00"),  # 875 + 1,900
        ("200000.01", "2775.00"),  # 2775 + 0.00005
        ("500000", "4275.00"),  # 2775 + 0.5% of 300,000
        ("999999.99", "6775.00"),  # 2775 + 3999.99995
        ("1000000.00", "6775.00"),  # 2775 + 4,000: the maximum is reached
        ("1000000.01", "6775.00"),  # capped
        ("2000000", "6775.00"),  # capped
    ],
)
def test_band_edges(principal, costs):
    """Each band edge, and one cent either side, gives the staffel amount rounded half up."""
    assert collection_costs(Decimal(principal)) == Decimal(costs)


@pytest.mark.parametrize(
    ("principal", "with_vat"),
    [
        ("1000", "181.50"),  # 150.00 + 31.50
        ("200", "48.40"),  # 40.00 + 8.40
        ("266.70", "48.41"),  # 40.01 + 8.4021 → 8.40
        ("2500.05", "453.76"),  # 375.01 + 78.7521 → 78.75
        ("2000000", "8197.75"),  # 6775.00 + 1422.75
    ],
)
def test_vat_is_added_on_the_rounded_costs(principal, with_vat):
    """With add_vat, 21% VAT on the rounded costs is added, itself rounded to cents."""
    assert collection_costs(Decimal(principal), add_vat=True) == Decimal(with_vat)


def test_costs_are_never_below_minimum_nor_above_maximum():
    """Costs stay between €40 and €6,775 for any principal."""
    for cents in (1, 99, 26_667, 10**8, 10**11):
        costs = collection_costs(Decimal(cents) / 100)
        assert WIK_MINIMUM <= costs <= WIK_MAXIMUM


@pytest.mark.parametrize(
    ("principal", "message"),
    [
        (Decimal("0"), "more than zero"),
        (Decimal("-100"), "more than zero"),
        (Decimal("100.001"), "two decimals"),
        (Decimal("NaN"), "finite"),
        (100.0, "never a float"),
        (100, "must be a Decimal"),
        ("100", "must be a Decimal"),
    ],
)
def test_bad_principal_is_refused(principal, message):
    """A principal that is not a positive cent-exact Decimal raises ValueError."""
    with pytest.raises(ValueError, match=message):
        collection_costs(principal)


def test_wki_cap_leaves_large_claims_alone():
    """At or above €266.67 a month the costs are not capped."""
    costs = Decimal("875.00")
    assert wki_cap(costs, monthly_amount=Decimal("266.67")) == costs
    assert (
        wki_cap(
            costs,
            monthly_amount=Decimal("1000.00"),
            already_charged_in_six_months=Decimal("500.00"),
        )
        == costs
    )


def test_wki_cap_limits_small_claims_to_140_per_six_months():
    """Under €266.67 a month the costs in six months are capped at €140."""
    assert wki_cap(Decimal("40.00"), monthly_amount=Decimal("266.66")) == Decimal("40.00")
    assert wki_cap(Decimal("150.00"), monthly_amount=Decimal("100.00")) == Decimal("140.00")
    assert wki_cap(
        Decimal("40.00"),
        monthly_amount=Decimal("100.00"),
        already_charged_in_six_months=Decimal("120.00"),
    ) == Decimal("20.00")
    assert wki_cap(
        Decimal("40.00"),
        monthly_amount=Decimal("100.00"),
        already_charged_in_six_months=Decimal("160.00"),
    ) == Decimal("0.00")


def test_wki_cap_refuses_floats():
    """The Wki cap takes Decimal amounts only."""
    with pytest.raises(ValueError, match="never a float"):
        wki_cap(Decimal("40.00"), monthly_amount=100.0)
