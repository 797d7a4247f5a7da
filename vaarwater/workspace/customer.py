"""The customer view: everything about one debtor an agent needs during a call (issue 7,
part 3): the timeline of everything, contact points with their quality, household and
affordability, risk and why. Used by the case page and the call screen."""

from .selectors import case_file


def customer_view(case) -> dict:
    """The template context of ``workspace/_customer_view.html`` for one case."""
    return {"case": case, **case_file(case)}
