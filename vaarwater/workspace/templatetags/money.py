from django import template
from django.utils.translation import get_language

from vaarwater.core.money import format_eur

register = template.Library()


@register.filter
def eur(cents):
    """Format integer cents as euros in the active language."""
    if cents is None or cents == "":
        return ""
    return format_eur(int(cents), language=(get_language() or "nl")[:2])


@register.filter
def euros(amount):
    """Format a Decimal euro amount in the active language."""
    return eur(int(amount * 100))
