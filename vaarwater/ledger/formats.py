"""The import file formats: the columns of each CSV file, in their documented order.

The importer, the generator and the tests all read these, so the format has one source.
"""

DEBTOR_COLUMNS = (
    "external_id", "name", "street", "house_number", "postcode", "city", "email", "phone",
    "iban", "payday_day", "language",
)  # fmt: skip
DEBTOR_OPTIONAL_COLUMNS = ("payday_cycle", "payday_anchor")
INVOICE_COLUMNS = (
    "external_id", "debtor_external_id", "contract_external_id", "issue_date", "due_date",
    "amount", "description",
)  # fmt: skip
PAYMENT_COLUMNS = ("external_id", "debtor_external_id", "date", "amount", "reference")
