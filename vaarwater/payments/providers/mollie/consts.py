"""Mollie's names and numbers.

Statuses: https://docs.mollie.com/payments/status-changes. An iDEAL payment is ``open`` until
the debtor finishes at their bank; then ``paid``, ``failed``, ``canceled`` or (not finished in
time) ``expired``. ``pending`` and ``authorized`` are steps on the way for other methods.
"""

PROVIDER = "mollie"
API_HOST = "https://api.mollie.com"
METHOD_IDEAL = "ideal"
CURRENCY = "EUR"
# A payment id: ``tr_`` and letters/digits. Anything else is not asked about at all.
PAYMENT_ID_PATTERN = r"^tr_[A-Za-z0-9]{4,64}$"

# Mollie's status → ours (PaymentRequestStatus).
STATUS_MAP = {
    "open": "open",
    "pending": "pending",
    "authorized": "pending",
    "paid": "paid",
    "failed": "failed",
    "canceled": "canceled",
    "expired": "expired",
}

# The locale of Mollie's checkout for a debtor's language.
LOCALES = {"nl": "nl_NL", "en": "en_US"}
