"""Bank data shared through PSD2: read account transactions, reckon income and monthly costs.

Input is the Berlin Group NextGenPSD2 "Read Transaction List" response (JSON)::

    {"account": {"iban": "NL.."},
     "transactions": {"booked": [{"transactionId": "..", "bookingDate": "2025-07-24",
                                  "valueDate": "2025-07-24",
                                  "transactionAmount": {"currency": "EUR", "amount": "-123.45"},
                                  "creditorName": "..", "creditorAccount": {"iban": ".."},
                                  "debtorName": "..", "debtorAccount": {"iban": ".."},
                                  "remittanceInformationUnstructured": "..",
                                  "bankTransactionCode": "..",
                                  "proprietaryBankTransactionCode": ".."}, ...],
                      "pending": [...]}}

One such document, a list of them, or ``{"accounts": [document, ...]}`` for several accounts.
Amounts are read as ``Decimal`` (never ``float``); only EUR is accepted. A problem raises
``Psd2Error`` naming the source and the JSON path (``transactions.booked[3].transactionAmount.
amount: 'abc' is not an amount``).

``psd2_analyse`` classifies the booked transactions by counterparty name, remittance text and
bank transaction code (income: salary, benefits, recurring credits; fixed costs: rent, mortgage,
energy, water, insurance, telephone and internet, taxes; instalments to other creditors) and
averages them over the full calendar months the data covers. Every line says which
transactions, which counterparty and which word matched. Pending transactions are not counted.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from vaarwater.core.money import format_eur

MAX_BYTES = 20 * 1024 * 1024  # a year of a busy account is well under 1 MB
# Days a month's first or last days may be missing from the data and still count as covered:
# a weekend without transactions at either end of the download.
EDGE_SLACK_DAYS = 2
# A credit that comes back every month (not matched by a word) counts as income from this size.
RECURRING_INCOME_MIN_CENTS = 10000

AMOUNT_RE = re.compile(r"^-?\d{1,14}(\.\d{1,3})?$")
IBAN_RE = re.compile(r"^[A-Z]{2}\d{2}[A-Z0-9]{1,30}$")

INCOME = "income"
FIXED_COSTS = "fixed_costs"
INSTALMENTS = "other_instalments"
NOT_COUNTED = "not_counted"

KIND_LABELS = {
    "salary": "salary",
    "benefit": "benefit, allowance or pension",
    "recurring_income": "recurring income",
    "rent": "rent or housing",
    "mortgage": "mortgage",
    "energy": "energy",
    "water": "water",
    "insurance": "insurance",
    "telecom": "phone and internet",
    "taxes": "taxes and municipal charges",
    "instalment": "instalment to another creditor",
    "own_transfer": "transfers between own accounts",
    "other_credit": "other money received",
    "other_spending": "other spending",
}
KIND_CATEGORY = {
    "salary": INCOME,
    "benefit": INCOME,
    "recurring_income": INCOME,
    "rent": FIXED_COSTS,
    "mortgage": FIXED_COSTS,
    "energy": FIXED_COSTS,
    "water": FIXED_COSTS,
    "insurance": FIXED_COSTS,
    "telecom": FIXED_COSTS,
    "taxes": FIXED_COSTS,
    "instalment": INSTALMENTS,
    "own_transfer": NOT_COUNTED,
    "other_credit": NOT_COUNTED,
    "other_spending": NOT_COUNTED,
}

# Words matched at the start of a word (so "huur" matches "huurpenning"); "$" at the end: the
# whole word only ("cz" but not "czech"); "*" in front: anywhere in a word ("zorgverzekering").
# Rules are tried in order; the first that matches decides.
CREDIT_RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "benefit",
        (
            "uwv$",
            "svb$",
            "*uitkering",
            "kinderbijslag",
            "*toeslag",
            "kindgebonden budget",
            "duo$",
            "studiefinanciering",
            "aow$",
            "bijstand",
            "participatiewet",
            "pensioen",
        ),
    ),
    ("salary", ("salaris", "loon", "*salaris", "salary", "wage")),
)
DEBIT_RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("mortgage", ("hypotheek", "hypothecair")),
    (
        "instalment",
        (
            "*regeling",
            "aflossing",
            "*deurwaarder",
            "incassobureau",
            "incasso bureau",
            "cjib$",
            "lening",
            "studieschuld",
            "krediet",
        ),
    ),
    (
        "rent",
        (
            "huur",
            "kamerhuur",
            "woonstichting",
            "woningstichting",
            "woningcorporatie",
            "wooncorporatie",
            "vve$",
        ),
    ),
    (
        "energy",
        (
            "vattenfall",
            "eneco",
            "essent",
            "energie",
            "greenchoice",
            "vandebron",
            "engie",
            "oxxio",
            "stroom",
        ),
    ),
    (
        "water",
        (
            "water$",
            "drinkwater",
            "waterbedrijf",
            "waterleiding",
            "vitens",
            "evides",
            "waternet",
            "dunea",
            "pwn$",
            "wml$",
            "oasen",
        ),
    ),
    (
        "insurance",
        (
            "*verzekering",
            "cz$",
            "vgz$",
            "zilveren kruis",
            "menzis",
            "dsw$",
            "ohra",
            "interpolis",
            "centraal beheer",
            "fbto",
            "unive",
            "univé",
            "achmea",
            "anderzorg",
            "ditzo",
        ),
    ),
    (
        "telecom",
        (
            "kpn$",
            "ziggo",
            "odido",
            "t-mobile",
            "vodafone",
            "tele2",
            "simyo",
            "youfone",
            "lebara",
            "delta fiber",
            "caiway",
        ),
    ),
    ("taxes", ("gemeente", "*belasting", "waterschap", "heffing")),
    ("instalment", ("termijn",)),  # weak: energy and insurance bills say "termijnbedrag" too
)
# ISO 20022 bank transaction sub-family for salary ("PMNT-RCDT-SALA").
SALARY_CODE = "SALA"


def _compile(word: str) -> re.Pattern:
    anywhere = word.startswith("*")
    whole = word.endswith("$")
    core = re.escape(word.strip("*$"))
    return re.compile(
        ("" if anywhere else r"(?<![0-9a-zà-ÿ])") + core + (r"(?![0-9a-zà-ÿ])" if whole else ""),
        re.IGNORECASE,
    )


def _compiled(rules):
    return tuple(
        (kind, tuple((word.strip("*$"), _compile(word)) for word in words)) for kind, words in rules
    )


_CREDIT_RULES = _compiled(CREDIT_RULES)
_DEBIT_RULES = _compiled(DEBIT_RULES)


class Psd2Error(ValueError):
    """Bank data that cannot be read or used; names the source and the JSON path.

    ``code`` says what kind of problem it is, for a message in the reader's language:
    ``too_large``, ``not_text``, ``empty``, ``not_json``, ``shape`` (not the NextGenPSD2
    structure), ``date``, ``iban``, ``currency``, ``amount``, ``no_transactions``,
    ``too_short`` (less than a full month; ``details`` has ``first`` and ``last``).
    """

    def __init__(self, source: str, path: str, reason: str, *, code: str = "shape", details=None):
        self.source = source
        self.path = path
        self.reason = reason
        self.code = code
        self.details = dict(details or {})
        super().__init__(f"{source}: {path}: {reason}" if path else f"{source}: {reason}")


@dataclass(frozen=True)
class Psd2Transaction:
    """One transaction; ``amount`` is positive for money in, negative for money out."""

    account: str  # the shared account's IBAN ('' when the document does not give it)
    path: str  # where it is in the JSON, e.g. 'transactions.booked[3]'
    transaction_id: str
    booking_date: date | None
    value_date: date | None
    amount: Decimal
    counterparty_name: str
    counterparty_iban: str
    remittance: str
    bank_code: str
    pending: bool = False

    @property
    def cents(self) -> int:
        return int(self.amount * 100)

    @property
    def ref(self) -> str:
        """How a line names this transaction: its id, or its place in the JSON."""
        return self.transaction_id or self.path


@dataclass(frozen=True)
class Psd2Account:
    iban: str
    path: str
    booked: tuple[Psd2Transaction, ...]
    pending: tuple[Psd2Transaction, ...]


@dataclass(frozen=True)
class Psd2Accounts:
    """The accounts read from one upload."""

    source: str
    accounts: tuple[Psd2Account, ...]
    duplicates: int = 0  # transactions seen twice (the same id on the same account), skipped

    @property
    def booked(self) -> tuple[Psd2Transaction, ...]:
        return tuple(t for account in self.accounts for t in account.booked)


@dataclass(frozen=True)
class Psd2Line:
    """One explained line of the summary: a kind of income or cost from one counterparty."""

    category: str  # income | fixed_costs | other_instalments | not_counted
    kind: str  # salary, benefit, rent, energy, instalment, other_spending, ...
    counterparty: str
    matched: str  # the word that matched, or the rule that decided
    count: int
    total_cents: int  # over the full months counted (always positive)
    monthly_cents: int
    transactions: tuple[str, ...] = ()
    dates: tuple[date, ...] = ()

    @property
    def label(self) -> str:
        return KIND_LABELS[self.kind]

    @property
    def text(self) -> str:
        """The line in words: 'salary (Werkgever BV): €2,450.00 a month (3 payments; …)'."""
        who = f" ({self.counterparty})" if self.counterparty else ""
        payments = "payment" if self.count == 1 else "payments"
        return (
            f"{self.label}{who}: {format_eur(self.monthly_cents, language='en')} a month "
            f"({self.count} {payments}; {self.matched})"
        )


@dataclass(frozen=True)
class Psd2Summary:
    """What the bank data says a month looks like, with the lines that explain it."""

    source: str
    accounts: tuple[str, ...]
    period_from: date
    period_to: date
    months: tuple[str, ...]  # the full calendar months counted, '2025-07'
    net_income_cents: int
    fixed_costs_cents: int
    other_instalments_cents: int
    payday_day: int | None
    payday_cycle: str | None  # monthly | four_weekly | None (no income found)
    payday_anchor: date | None
    lines: tuple[Psd2Line, ...]
    transaction_count: int
    duplicates: int = 0
    notes: tuple[str, ...] = field(default=())

    def as_data(self) -> dict:
        """A JSON-ready summary for ``Assessment.data`` (no raw transactions, masked IBANs)."""
        return {
            "source": self.source,
            "accounts": [_mask(iban) for iban in self.accounts],
            "period": {"from": self.period_from.isoformat(), "to": self.period_to.isoformat()},
            "months": list(self.months),
            "net_income_cents": self.net_income_cents,
            "fixed_costs_cents": self.fixed_costs_cents,
            "other_instalments_cents": self.other_instalments_cents,
            "payday": {
                "day": self.payday_day,
                "cycle": self.payday_cycle,
                "anchor": self.payday_anchor.isoformat() if self.payday_anchor else None,
            },
            "lines": [
                {
                    "category": line.category,
                    "kind": line.kind,
                    "label": line.label,
                    "counterparty": line.counterparty,
                    "matched": line.matched,
                    "count": line.count,
                    "total_cents": line.total_cents,
                    "monthly_cents": line.monthly_cents,
                    "transactions": list(line.transactions),
                    "dates": [d.isoformat() for d in line.dates],
                    "text": line.text,
                }
                for line in self.lines
            ],
            "transactions": self.transaction_count,
            "duplicates": self.duplicates,
            "notes": list(self.notes),
        }


def _mask(iban: str) -> str:
    return f"{iban[:4]}…{iban[-4:]}" if len(iban) > 8 else iban


# --- reading ---------------------------------------------------------------------------------


class _Reader:
    def __init__(self, source: str):
        self.source = source

    def fail(self, path: str, reason: str, code: str = "shape"):
        raise Psd2Error(self.source, path, reason, code=code)

    @staticmethod
    def at(path: str, key: str | int) -> str:
        if isinstance(key, int):
            return f"{path}[{key}]"
        return f"{path}.{key}" if path else key

    def obj(self, value, path: str, *, what: str = "an object") -> dict:
        if not isinstance(value, dict):
            self.fail(path or "(document)", f"expected {what}, got {_kind(value)}")
        return value

    def items(self, value, path: str) -> list:
        if value is None:
            return []
        if not isinstance(value, list):
            self.fail(path, f"expected a list, got {_kind(value)}")
        return value

    def text(self, parent: dict, key: str, path: str) -> str:
        value = parent.get(key)
        if value is None:
            return ""
        if not isinstance(value, str):
            self.fail(self.at(path, key), f"expected text, got {_kind(value)}")
        return " ".join(value.split())

    def day(self, parent: dict, key: str, path: str, *, required: bool) -> date | None:
        value = parent.get(key)
        where = self.at(path, key)
        if value is None or value == "":
            if required:
                self.fail(where, "missing; expected a date such as 2025-07-24", "date")
            return None
        if not isinstance(value, str):
            self.fail(where, f"expected a date such as 2025-07-24, got {_kind(value)}", "date")
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            self.fail(where, f"{value!r} is not a date (YYYY-MM-DD)", "date")

    def iban(self, parent: dict, key: str, path: str) -> str:
        value = parent.get(key)
        if value is None:
            return ""
        where = self.at(path, key)
        account = self.obj(value, where, what='an account object such as {"iban": "NL.."}')
        iban = self.text(account, "iban", where).replace(" ", "").upper()
        if iban and not IBAN_RE.match(iban):
            self.fail(self.at(where, "iban"), f"{account['iban']!r} is not an IBAN", "iban")
        return iban

    def amount(self, tx: dict, path: str) -> Decimal:
        where = self.at(path, "transactionAmount")
        if "transactionAmount" not in tx:
            self.fail(where, 'missing; expected {"currency": "EUR", "amount": "-12.34"}')
        money = self.obj(tx["transactionAmount"], where)
        currency = money.get("currency")
        if currency != "EUR":
            self.fail(
                self.at(where, "currency"),
                f"{currency!r} is not supported: only amounts in EUR can be read"
                if currency is not None
                else "missing; only amounts in EUR can be read",
                "currency",
            )
        value = money.get("amount")
        where = self.at(where, "amount")
        if isinstance(value, bool) or value is None:
            self.fail(where, f"{value!r} is not an amount", "amount")
        if isinstance(value, (int, Decimal)):
            value = str(value)
        if not isinstance(value, str) or not AMOUNT_RE.match(value.strip()):
            self.fail(where, f"{value!r} is not an amount", "amount")
        amount = Decimal(value.strip())
        if amount != amount.quantize(Decimal("0.01")):
            self.fail(where, f"{value!r} has more than two decimals", "amount")
        return amount.quantize(Decimal("0.01"))

    def transaction(self, raw, path: str, *, account: str, pending: bool) -> Psd2Transaction:
        tx = self.obj(raw, path, what="a transaction object")
        amount = self.amount(tx, path)
        booking_date = self.day(tx, "bookingDate", path, required=not pending)
        value_date = self.day(tx, "valueDate", path, required=False)
        if amount < 0:
            name_keys, account_keys = ("creditorName", "debtorName"), ("creditorAccount",)
        else:
            name_keys, account_keys = ("debtorName", "creditorName"), ("debtorAccount",)
        names = [self.text(tx, key, path) for key in name_keys]
        # The other side's name is a fallback only: some banks fill in just one of them.
        name = names[0] or names[1]
        counterparty_iban = self.iban(tx, account_keys[0], path)
        for key in ("creditorAccount", "debtorAccount"):
            self.iban(tx, key, path)  # checked, even when it is the own account
        remittance = [self.text(tx, "remittanceInformationUnstructured", path)]
        for n, line in enumerate(
            self.items(
                tx.get("remittanceInformationUnstructuredArray"),
                self.at(path, "remittanceInformationUnstructuredArray"),
            )
        ):
            if not isinstance(line, str):
                self.fail(
                    self.at(self.at(path, "remittanceInformationUnstructuredArray"), n),
                    f"expected text, got {_kind(line)}",
                )
            remittance.append(line)
        structured = tx.get("remittanceInformationStructured")
        if isinstance(structured, dict):
            remittance.append(str(structured.get("reference") or ""))
        elif isinstance(structured, str):
            remittance.append(structured)
        remittance.append(self.text(tx, "additionalInformation", path))
        codes = [
            self.text(tx, "bankTransactionCode", path),
            self.text(tx, "proprietaryBankTransactionCode", path),
        ]
        return Psd2Transaction(
            account=account,
            path=path,
            transaction_id=self.text(tx, "transactionId", path)
            or self.text(tx, "entryReference", path),
            booking_date=booking_date,
            value_date=value_date,
            amount=amount,
            counterparty_name=name,
            counterparty_iban=counterparty_iban,
            remittance=" ".join(" ".join(part for part in remittance if part).split()),
            bank_code=" ".join(code for code in codes if code),
            pending=pending,
        )

    def document(self, raw, path: str) -> Psd2Account:
        doc = self.obj(raw, path, what="an object with 'account' and 'transactions'")
        iban = self.iban(doc, "account", path)
        where = self.at(path, "transactions")
        if "transactions" not in doc:
            self.fail(where, "missing; expected the account's booked and pending transactions")
        transactions = self.obj(doc["transactions"], where)
        booked = tuple(
            self.transaction(tx, self.at(self.at(where, "booked"), n), account=iban, pending=False)
            for n, tx in enumerate(self.items(transactions.get("booked"), self.at(where, "booked")))
        )
        pending = tuple(
            self.transaction(tx, self.at(self.at(where, "pending"), n), account=iban, pending=True)
            for n, tx in enumerate(
                self.items(transactions.get("pending"), self.at(where, "pending"))
            )
        )
        return Psd2Account(iban=iban, path=path, booked=booked, pending=pending)


def _kind(value) -> str:
    names = {dict: "an object", list: "a list", str: "text", bool: "true/false"}
    if value is None:
        return "null"
    if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        return f"the number {value}"
    return names.get(type(value), type(value).__name__)


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a number")


def psd2_read(raw: bytes | str, *, source: str) -> Psd2Accounts:
    """Read a NextGenPSD2 transaction list (one account, a list, or {"accounts": [...]})."""
    reader = _Reader(source)
    if isinstance(raw, bytes):
        if len(raw) > MAX_BYTES:
            reader.fail("", f"the file is larger than {MAX_BYTES // (1024 * 1024)} MB", "too_large")
        try:
            raw = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            reader.fail(
                "", f"not UTF-8 text (byte {exc.start}); expected JSON bank data", "not_text"
            )
    if not raw.strip():
        reader.fail("", "the file is empty: it holds no bank data", "empty")
    try:
        doc = json.loads(raw, parse_float=Decimal, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        reader.fail("", f"not JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}", "not_json")
    except ValueError as exc:
        reader.fail("", f"not JSON: {exc}", "not_json")
    except RecursionError:
        reader.fail("", "not bank data: the JSON is nested too deeply", "not_json")
    if isinstance(doc, list):
        documents = [(f"[{n}]", item) for n, item in enumerate(doc)]
    elif isinstance(doc, dict) and "transactions" not in doc and "accounts" in doc:
        documents = [
            (f"accounts[{n}]", item)
            for n, item in enumerate(reader.items(doc["accounts"], "accounts"))
        ]
    elif isinstance(doc, dict):
        documents = [("", doc)]
    else:
        reader.fail("", f"expected an object with 'account' and 'transactions', got {_kind(doc)}")
    if not documents:
        reader.fail("", "no accounts in the file")
    accounts = []
    seen: set[tuple[str, str]] = set()
    duplicates = 0
    for path, item in documents:
        account = reader.document(item, path)
        booked = []
        for tx in account.booked:
            key = (tx.account, tx.transaction_id)
            if tx.transaction_id and key in seen:
                duplicates += 1
                continue
            seen.add(key)
            booked.append(tx)
        accounts.append(
            Psd2Account(iban=account.iban, path=path, booked=tuple(booked), pending=account.pending)
        )
    return Psd2Accounts(source=source, accounts=tuple(accounts), duplicates=duplicates)


# --- analysing -------------------------------------------------------------------------------


def _month_end(year: int, month: int) -> date:
    nxt = date(year + month // 12, month % 12 + 1, 1)
    return nxt - timedelta(days=1)


def full_months(first: date, last: date) -> tuple[tuple[int, int], ...]:
    """The calendar months wholly inside first..last (a weekend's slack at either end).

    >>> full_months(date(2025, 7, 1), date(2025, 9, 30))
    ((2025, 7), (2025, 8), (2025, 9))
    >>> full_months(date(2025, 7, 15), date(2025, 10, 13))
    ((2025, 8), (2025, 9))
    >>> full_months(date(2025, 7, 3), date(2025, 8, 29))  # 1-2 July and 30-31 Aug: slack
    ((2025, 7), (2025, 8))
    """
    months = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        start, end = date(year, month, 1), _month_end(year, month)
        if first <= start + timedelta(days=EDGE_SLACK_DAYS) and last >= end - timedelta(
            days=EDGE_SLACK_DAYS
        ):
            months.append((year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return tuple(months)


def _classify(tx: Psd2Transaction, own: set[str]) -> tuple[str, str]:
    """Return (kind, matched) for one transaction; the kind may be provisional (other_*)."""
    if tx.counterparty_iban and tx.counterparty_iban in own:
        return "own_transfer", "the counterparty is one of the shared accounts"
    text = f"{tx.counterparty_name} {tx.remittance}"
    if tx.amount > 0:
        for kind, words in _CREDIT_RULES:
            for word, pattern in words:
                if pattern.search(text):
                    return kind, f"matched '{word}'"
        if SALARY_CODE in re.split(r"[^A-Z]+", tx.bank_code.upper()):
            return "salary", f"bank code {tx.bank_code}"
        return "other_credit", "no income word"
    for kind, words in _DEBIT_RULES:
        for word, pattern in words:
            if pattern.search(text):
                return kind, f"matched '{word}'"
    return "other_spending", "no fixed cost or instalment word"


def _who(tx: Psd2Transaction) -> tuple[str, str]:
    """(key, name) of the counterparty: by IBAN when known, else by name."""
    name = tx.counterparty_name or tx.counterparty_iban or "(no name)"
    return (tx.counterparty_iban or tx.counterparty_name.casefold()), name


def _per_month(total_cents: int, months: int) -> int:
    return (2 * total_cents + months) // (2 * months)  # half up, for amounts ≥ 0


def _payday(dates: list[date]) -> tuple[int | None, str | None, date | None]:
    """The payday of one income: four-weekly when every gap is 28 days, else a day of the month.

    >>> _payday([date(2025, 7, 24), date(2025, 8, 25), date(2025, 9, 24)])
    (24, 'monthly', datetime.date(2025, 9, 24))
    >>> _payday([date(2025, 7, 4), date(2025, 8, 1), date(2025, 8, 29)])
    (None, 'four_weekly', datetime.date(2025, 8, 29))
    """
    dates = sorted(set(dates))
    if not dates:
        return None, None, None
    gaps = {(b - a).days for a, b in zip(dates, dates[1:], strict=False)}
    if len(dates) >= 3 and gaps == {28}:
        return None, "four_weekly", dates[-1]
    days = Counter(d.day for d in dates)
    # The most frequent day; on a tie the later one (paydays move earlier, before a weekend).
    day = max(days, key=lambda d: (days[d], d))
    return day, "monthly", dates[-1]


def psd2_analyse(
    accounts: Psd2Accounts,
    *,
    on: date,
    date_from: date | None = None,
    date_to: date | None = None,
) -> Psd2Summary:
    """Reckon monthly income, fixed costs and other instalments from the booked transactions.

    The period is ``date_from``..``date_to`` when the caller knows what was downloaded, else
    the first to the last booking date (up to ``on``); only its full calendar months count.
    """
    source = accounts.source
    end = min(date_to or on, on)
    booked = [
        t
        for t in accounts.booked
        if t.booking_date
        and t.booking_date <= end
        and (date_from is None or t.booking_date >= date_from)
        and t.cents
    ]
    if not booked:
        raise Psd2Error(
            source,
            "",
            f"no booked transactions up to {end.isoformat()}: share the transactions of at "
            "least one full month",
            code="no_transactions",
        )
    first = date_from or min(t.booking_date for t in booked)
    last = date_to or max(t.booking_date for t in booked)
    months = full_months(first, last)
    if not months:
        raise Psd2Error(
            source,
            "",
            f"the bank data covers {first.isoformat()} to {last.isoformat()} "
            f"({(last - first).days + 1} days), less than one full calendar month: share at "
            "least one full month, three is better",
            code="too_short",
            details={"first": first, "last": last},
        )
    n_months = len(months)
    counted = [t for t in booked if (t.booking_date.year, t.booking_date.month) in months]
    own = {account.iban for account in accounts.accounts if account.iban}

    groups: dict[tuple[str, str], list[Psd2Transaction]] = defaultdict(list)
    matched: dict[tuple[str, str], list[str]] = defaultdict(list)
    names: dict[str, str] = {}
    for tx in counted:
        kind, why = _classify(tx, own)
        key, name = _who(tx)
        names.setdefault(key, name)
        groups[kind, key].append(tx)
        if why not in matched[kind, key]:
            matched[kind, key].append(why)

    # Credits without an income word that come back every month are income too (an employer
    # whose name says nothing); one-off credits (refunds, gifts, Tikkies) are not.
    for (kind, key), txs in list(groups.items()):
        if kind != "other_credit" or n_months < 2:
            continue
        in_months = {(t.booking_date.year, t.booking_date.month) for t in txs}
        amounts = [t.cents for t in txs]
        if (
            len(in_months) >= max(2, n_months - 1)
            and min(amounts) >= RECURRING_INCOME_MIN_CENTS
            and min(amounts) * 2 >= max(amounts)
        ):
            groups["recurring_income", key] = groups.pop((kind, key))
            matched["recurring_income", key] = [
                f"a similar credit in {len(in_months)} of {n_months} months"
            ]

    lines: list[Psd2Line] = []
    paydays: dict[int, tuple[int | None, str | None, date | None]] = {}  # id(line) → payday
    aggregated: dict[str, list[Psd2Transaction]] = defaultdict(list)
    for (kind, key), txs in groups.items():
        if kind in ("other_credit", "other_spending", "own_transfer"):
            aggregated[kind].extend(txs)
            continue
        total = sum(abs(t.cents) for t in txs)
        monthly = _per_month(total, n_months)
        why = "; ".join(matched[kind, key])
        payday = None
        if KIND_CATEGORY[kind] == INCOME:
            # The payday from every payment of this income in the data, not only full months.
            same = ("other_credit",) if kind == "recurring_income" else (kind,)
            payday = _payday(
                [
                    t.booking_date
                    for t in booked
                    if t.amount > 0 and _who(t)[0] == key and _classify(t, own)[0] in same
                ]
            )
            if payday[1] == "four_weekly":
                # 13 paydays a year: a month's share is the average payment × 13 / 12, not what
                # happened to fall into the months shared (some months have two paydays).
                monthly = (2 * 13 * total + 12 * len(txs)) // (2 * 12 * len(txs))
                why += "; paid every four weeks: average payment × 13 ÷ 12"
        txs = sorted(txs, key=lambda t: (t.booking_date, t.ref))
        line = Psd2Line(
            category=KIND_CATEGORY[kind],
            kind=kind,
            counterparty=names[key],
            matched=why,
            count=len(txs),
            total_cents=total,
            monthly_cents=monthly,
            transactions=tuple(t.ref for t in txs),
            dates=tuple(t.booking_date for t in txs),
        )
        lines.append(line)
        if payday is not None:
            paydays[id(line)] = payday
    order = list(KIND_CATEGORY)
    lines.sort(key=lambda line: (order.index(line.kind), -line.total_cents, line.counterparty))
    for kind in ("own_transfer", "other_credit", "other_spending"):
        txs = aggregated.get(kind)
        if not txs:
            continue
        # Money moved between two shared accounts shows on both: count each move once.
        total = max(
            sum(t.cents for t in txs if t.cents > 0), -sum(t.cents for t in txs if t.cents < 0)
        )
        lines.append(
            Psd2Line(
                category=NOT_COUNTED,
                kind=kind,
                counterparty="",
                matched=f"not counted: {matched_reason(kind)}",
                count=len(txs),
                total_cents=total,
                monthly_cents=_per_month(total, n_months),
            )
        )

    def category_total(category: str) -> int:
        return sum(line.monthly_cents for line in lines if line.category == category)

    payday_day, payday_cycle, payday_anchor = None, None, None
    income_lines = [line for line in lines if line.category == INCOME]
    notes = []
    if income_lines:
        # The main income (the largest a month) sets the payday.
        main = max(income_lines, key=lambda line: line.monthly_cents)
        payday_day, payday_cycle, payday_anchor = paydays[id(main)]
    else:
        notes.append("no income was recognised in the bank data")
    return Psd2Summary(
        source=source,
        accounts=tuple(
            dict.fromkeys(account.iban for account in accounts.accounts if account.iban)
        ),
        period_from=first,
        period_to=last,
        months=tuple(f"{year:04d}-{month:02d}" for year, month in months),
        net_income_cents=category_total(INCOME),
        fixed_costs_cents=category_total(FIXED_COSTS),
        other_instalments_cents=category_total(INSTALMENTS),
        payday_day=payday_day,
        payday_cycle=payday_cycle,
        payday_anchor=payday_anchor,
        lines=tuple(lines),
        transaction_count=len(booked),
        duplicates=accounts.duplicates,
        notes=tuple(notes),
    )


def matched_reason(kind: str) -> str:
    return {
        "own_transfer": "money moved between the shared accounts",
        "other_credit": "one-off or irregular money received",
        "other_spending": "day-to-day spending (groceries, shopping, …) is part of living costs",
    }[kind]


def assessment_from_psd2(
    *,
    debtor,
    case,
    household: str,
    raw: bytes | str,
    actor,
    on: date | None = None,
    source_name: str = "PSD2 bank data",
    other_debts_cents: int = 0,
    date_from: date | None = None,
    date_to: date | None = None,
):
    """Read and analyse shared bank data, then record the assessment (source "psd2").

    ``date_from``/``date_to``: the period that was downloaded, when known (see psd2_analyse).
    """
    from django.utils import timezone

    from vaarwater.arrangements.affordability import assessment_record

    on = on or timezone.localdate()
    accounts = psd2_read(raw, source=source_name)
    summary = psd2_analyse(accounts, on=on, date_from=date_from, date_to=date_to)
    return assessment_record(
        debtor=debtor,
        case=case,
        source="psd2",
        household=household,
        net_income_cents=summary.net_income_cents,
        fixed_costs_cents=summary.fixed_costs_cents,
        other_instalments_cents=summary.other_instalments_cents,
        other_debts_cents=other_debts_cents,
        payday_day=summary.payday_day,
        data={"psd2": summary.as_data()},
        actor=actor,
        on=on,
    )
