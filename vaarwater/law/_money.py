"""Validate euro amounts given to the law functions: ``Decimal`` with at most two decimals."""

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def round_cents(amount: Decimal) -> Decimal:
    """Round a Decimal to cents, half up.

    >>> round_cents(Decimal("40.005"))
    Decimal('40.01')
    """
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def check_amount(value: object, *, name: str, allow_zero: bool = True) -> Decimal:
    """Return ``value`` as a cent-exact Decimal, or raise ValueError saying what is wrong.

    >>> check_amount(Decimal("12.5"), name="principal")
    Decimal('12.50')
    >>> check_amount(12.5, name="principal")
    Traceback (most recent call last):
    ...
    ValueError: principal must be a Decimal, got float 12.5 (money is never a float)
    """
    if not isinstance(value, Decimal):
        raise ValueError(
            f"{name} must be a Decimal, got {type(value).__name__} {value!r}"
            + (" (money is never a float)" if isinstance(value, float) else "")
        )
    if not value.is_finite():
        raise ValueError(f"{name} must be a finite amount, got {value}")
    if value != value.quantize(CENT, rounding=ROUND_HALF_UP):
        raise ValueError(f"{name} must have at most two decimals, got {value}")
    if value < 0 or (value == 0 and not allow_zero):
        bound = "zero or more" if allow_zero else "more than zero"
        raise ValueError(f"{name} must be {bound}, got {value}")
    return value.quantize(CENT)
