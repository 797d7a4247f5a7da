"""Generate a synthetic Dutch energy supplier's portfolio as the three import CSV files.

Every value is drawn from one ``random.Random(seed)``; Faker (``nl_NL``, seeded on its own
instance) is only used once to build small pools of names, streets and cities, so the same
seed always writes the same bytes and a million debtors stay fast.

The files use the import format: UTF-8 without BOM, ``;`` as delimiter, a decimal comma with
exactly two decimals, ISO dates, a header row and ``\\n`` line endings.
"""

import calendar
import csv
import os
import random
import sys
import unicodedata
from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from faker import Faker
from tqdm import tqdm

from .formats import DEBTOR_COLUMNS, DEBTOR_OPTIONAL_COLUMNS, INVOICE_COLUMNS, PAYMENT_COLUMNS

DEBTOR_HEADER = DEBTOR_COLUMNS + DEBTOR_OPTIONAL_COLUMNS
INVOICE_HEADER = INVOICE_COLUMNS
PAYMENT_HEADER = PAYMENT_COLUMNS

INVOICES_PER_DEBTOR = 12
PAYMENT_TERM_DAYS = 14
# Rows are buffered per batch of debtors and written with one writerows() call: a batch of
# 2,000 debtors is ~24,000 invoice rows, a few MB in memory, and keeps the C writer busy.
BATCH_DEBTORS = 2_000
WRITE_BUFFER_BYTES = 1 << 20

ON_TIME = "on_time"
LATE = "late"
SLEPER = "sleper"  # a chronic late payer who always pays "just after payday"
INCOME_DROP = "income_drop"
DISPUTE = "dispute"
# Shares in percent; stable per debtor because each debtor draws once.
BEHAVIOUR_SHARES = ((ON_TIME, 75), (LATE, 12), (SLEPER, 6), (INCOME_DROP, 4), (DISPUTE, 3))

PAYDAY_25TH = "25th"
PAYDAY_1ST = "1st"
PAYDAY_FOUR_WEEKLY = "four_weekly"
PAYDAY_OTHER_DAY = "other_day"
PAYDAY_UNKNOWN = "unknown"  # paid monthly on some day the creditor does not know
PAYDAY_SHARES = (
    (PAYDAY_25TH, 45),
    (PAYDAY_1ST, 20),
    (PAYDAY_FOUR_WEEKLY, 15),
    (PAYDAY_OTHER_DAY, 10),
    (PAYDAY_UNKNOWN, 10),
)

BANK_SHARES = (
    ("INGB", 35),
    ("RABO", 25),
    ("ABNA", 17),
    ("SNSB", 6),
    ("ASNB", 4),
    ("TRIO", 2),
    ("KNAB", 3),
    ("BUNQ", 8),
)

# Current addresses use the reserved example.com/net/org domains so generated data can never
# reach a real mailbox; outdated ones sit under the reserved .example TLD, named after
# long-gone Dutch providers, so they are recognisable as stale yet syntactically valid.
CURRENT_EMAIL_DOMAINS = ("example.com", "example.net", "example.org")
OUTDATED_EMAIL_DOMAINS = (
    "oudprovider.example",
    "hetnet.example",
    "wanadoo.example",
    "planet.example",
    "zonnet.example",
    "chello.example",
    "tiscali.example",
)
# Two-digit area codes that phonenumbers accepts as Dutch fixed lines (020 Amsterdam, ...).
LANDLINE_AREA_CODES = (
    "20", "10", "30", "70", "40", "50", "13", "15", "24", "26",
    "38", "43", "53", "58", "71", "73", "76",
)  # fmt: skip
# Dutch mobile numbers are 06 followed by 1-5 or 8 (6[1-58] in libphonenumber's metadata).
MOBILE_PREFIX_SHARES = (("61", 30), ("62", 24), ("63", 18), ("64", 14), ("65", 12), ("68", 2))
# PostNL never uses F, I, O, Q, U or Y in postcodes, nor the combinations SA, SD and SS.
POSTCODE_LETTERS = "ABCDEGHJKLMNPRSTVWXZ"
POSTCODE_SUFFIXES = tuple(
    a + b for a in POSTCODE_LETTERS for b in POSTCODE_LETTERS if a + b not in ("SA", "SD", "SS")
)

MONTH_NAMES_NL = (
    "januari", "februari", "maart", "april", "mei", "juni",
    "juli", "augustus", "september", "oktober", "november", "december",
)  # fmt: skip
MONTH_ABBR_NL = (
    "jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec",
)  # fmt: skip

POOL_FIRST_NAMES = 1_500
POOL_LAST_NAMES = 3_000
POOL_STREETS = 4_000
POOL_CITIES = 3_000


@dataclass(frozen=True)
class _Pools:
    """Seeded Faker output, drawn once and combined per row with the Random."""

    first_names: tuple[str, ...]
    last_names: tuple[str, ...]
    streets: tuple[str, ...]
    cities: tuple[tuple[str, int], ...]  # (city, first two postcode digits)


@dataclass(frozen=True)
class _Month:
    """One billing month as seen from a debtor's issue day."""

    issue: int  # date ordinal
    due: int
    id_suffix: str  # "-2026-11"
    description: str
    abbr: str  # "nov"
    year: int


def format_cents(cents: int) -> str:
    """Write positive integer cents with a decimal comma and two decimals.

    >>> format_cents(12345)
    '123,45'
    >>> format_cents(7)
    '0,07'
    """
    return f"{cents // 100},{cents % 100:02d}"


def nl_iban(*, bank_code: str, account: str) -> str:
    """Build a compact Dutch IBAN from a four-letter bank code and a ten-digit account.

    >>> nl_iban(bank_code="ABNA", account="0417164300")
    'NL91ABNA0417164300'
    """
    bban = bank_code + account
    # ISO 13616: move the country code and 00 to the end, letters become 10..35, mod 97.
    numeric = "".join(str(int(ch, 36)) for ch in bban + "NL00")
    return f"NL{98 - int(numeric) % 97:02d}{bban}"


def generate_portfolio(
    *, debtors: int, seed: int, as_of: date, out: Path, progress: bool = False
) -> dict[str, int]:
    """Write debtors.csv, invoices.csv and payments.csv into ``out``; return their row counts.

    Row counts exclude the header. Files are written under a temporary name and moved into
    place at the end, so an interrupted run never leaves a complete-looking file behind.
    """
    if debtors < 1:
        raise ValueError("debtors must be at least 1")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    pools = _build_pools(seed)
    months = _billing_months(as_of)
    paydays = _PaydayCalendar(
        lo=months[1][0].issue - 62, hi=as_of.toordinal() + 200, as_of=as_of.toordinal()
    )
    iso = _IsoDates()
    pick_behaviour = _picker(BEHAVIOUR_SHARES)
    pick_payday = _picker(PAYDAY_SHARES)
    pick_bank = _picker(BANK_SHARES)
    pick_mobile = _picker(MOBILE_PREFIX_SHARES)

    names = ("debtors", "invoices", "payments")
    headers = (DEBTOR_HEADER, INVOICE_HEADER, PAYMENT_HEADER)
    final = [out / f"{name}.csv" for name in names]
    temp = [path.with_name(path.name + ".tmp") for path in final]
    counts = dict.fromkeys(names, 0)
    files = [
        open(path, "w", encoding="utf-8", newline="", buffering=WRITE_BUFFER_BYTES)  # noqa: SIM115
        for path in temp
    ]
    try:
        writers = [csv.writer(f, delimiter=";", lineterminator="\n") for f in files]
        for writer, header in zip(writers, headers, strict=True):
            writer.writerow(header)
        with tqdm(
            total=debtors, unit="debtor", unit_scale=True, file=sys.stderr, disable=not progress
        ) as bar:
            for start in range(1, debtors + 1, BATCH_DEBTORS):
                stop = min(start + BATCH_DEBTORS, debtors + 1)
                d_rows: list[tuple[str, ...]] = []
                i_rows: list[tuple[str, ...]] = []
                p_rows: list[tuple[str, ...]] = []
                for number in range(start, stop):
                    _debtor(
                        rng,
                        number=number,
                        pools=pools,
                        months=months,
                        paydays=paydays,
                        iso=iso,
                        pick_behaviour=pick_behaviour,
                        pick_payday=pick_payday,
                        pick_bank=pick_bank,
                        pick_mobile=pick_mobile,
                        d_rows=d_rows,
                        i_rows=i_rows,
                        p_rows=p_rows,
                    )
                for writer, rows, name in zip(
                    writers, (d_rows, i_rows, p_rows), names, strict=True
                ):
                    writer.writerows(rows)
                    counts[name] += len(rows)
                bar.update(stop - start)
    except BaseException:
        for f, path in zip(files, temp, strict=True):
            f.close()
            path.unlink(missing_ok=True)
        raise
    for f in files:
        f.close()
    for src, dst in zip(temp, final, strict=True):
        os.replace(src, dst)
    return counts


def _build_pools(seed: int) -> _Pools:
    """Draw name, street and city pools from a Faker seeded with ``seed``."""
    fake = Faker("nl_NL")
    fake.seed_instance(seed)
    first = _unique(fake.first_name() for _ in range(POOL_FIRST_NAMES))
    last = _unique(fake.last_name() for _ in range(POOL_LAST_NAMES))
    streets = _unique(fake.street_name() for _ in range(POOL_STREETS))
    cities = _unique(fake.city() for _ in range(POOL_CITIES))
    # Faker's cities carry no postcode; give each one a fixed region so a town's
    # postcodes share their first two digits, as real ones do.
    regions = [fake.random_int(10, 99) for _ in cities]
    return _Pools(
        first_names=first,
        last_names=last,
        streets=streets,
        cities=tuple(zip(cities, regions, strict=True)),
    )


def _unique(values) -> tuple[str, ...]:
    """Deduplicate while keeping first-seen order (sets would make output hash-dependent)."""
    return tuple(dict.fromkeys(values))


def _picker(shares: tuple[tuple[str, int], ...]) -> Callable[[random.Random], str]:
    """Return a function drawing one key with probability proportional to its share."""
    keys = [key for key, _ in shares]
    cumulative = []
    total = 0
    for _, share in shares:
        total += share
        cumulative.append(total)

    def pick(rng: random.Random) -> str:
        return keys[bisect_left(cumulative, rng.randrange(total) + 1)]

    return pick


def _billing_months(as_of: date) -> dict[int, tuple[_Month, ...]]:
    """Map each issue day 1..28 to its last twelve billing months issued on or before as_of."""
    result = {}
    for day in range(1, 29):
        year, month = as_of.year, as_of.month
        if day > as_of.day:
            year, month = (year - 1, 12) if month == 1 else (year, month - 1)
        seq = []
        for _ in range(INVOICES_PER_DEBTOR):
            issue = date(year, month, day).toordinal()
            seq.append(
                _Month(
                    issue=issue,
                    due=issue + PAYMENT_TERM_DAYS,
                    id_suffix=f"-{year}-{month:02d}",
                    description=f"Termijnbedrag energie {MONTH_NAMES_NL[month - 1]} {year}",
                    abbr=MONTH_ABBR_NL[month - 1],
                    year=year,
                )
            )
            year, month = (year - 1, 12) if month == 1 else (year, month - 1)
        result[day] = tuple(reversed(seq))
    return result


class _PaydayCalendar:
    """Sorted payday ordinals per payday rule, computed once per rule and reused."""

    def __init__(self, *, lo: int, hi: int, as_of: int) -> None:
        self.lo, self.hi, self.as_of = lo, hi, as_of
        self._cache: dict[tuple[str, int], list[int]] = {}

    def monthly(self, day: int) -> list[int]:
        """Return paydays on ``day`` (or the month's last day), moved to Friday at weekends."""
        key = ("m", day)
        if key not in self._cache:
            first = date.fromordinal(self.lo)
            year, month = first.year, first.month
            days = []
            while True:
                last = calendar.monthrange(year, month)[1]
                payday = date(year, month, min(day, last))
                if payday.weekday() >= 5:  # salaries arrive the Friday before a weekend
                    payday -= timedelta(days=payday.weekday() - 4)
                days.append(payday.toordinal())
                if days[-1] > self.hi:
                    break
                year, month = (year + 1, 1) if month == 12 else (year, month + 1)
            self._cache[key] = days
        return self._cache[key]

    def four_weekly(self, anchor: int) -> list[int]:
        """Return every 28th day in step with ``anchor`` (benefits are paid four-weekly)."""
        key = ("w", anchor % 28)
        if key not in self._cache:
            start = self.lo - (self.lo - anchor) % 28
            self._cache[key] = list(range(start, self.hi + 28, 28))
        return self._cache[key]


class _IsoDates(dict):
    """Cache ISO strings by ordinal: a whole run touches only a few hundred dates."""

    def __missing__(self, ordinal: int) -> str:
        value = self[ordinal] = date.fromordinal(ordinal).isoformat()
        return value


def _ascii(text: str) -> str:
    """Reduce a name to lower-case a-z for an email local part."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return "".join(ch for ch in plain if ch.isalnum())


def _debtor(
    rng: random.Random,
    *,
    number: int,
    pools: _Pools,
    months: dict[int, tuple[_Month, ...]],
    paydays: _PaydayCalendar,
    iso: _IsoDates,
    pick_behaviour: Callable[[random.Random], str],
    pick_payday: Callable[[random.Random], str],
    pick_bank: Callable[[random.Random], str],
    pick_mobile: Callable[[random.Random], str],
    d_rows: list,
    i_rows: list,
    p_rows: list,
) -> None:
    """Append one debtor's row, its twelve invoices and its payments to the row lists."""
    debtor_id = f"D{number:07d}"
    contract_id = f"C{number:07d}"
    invoice_prefix = f"F{number:07d}"

    # Identity and address.
    first = rng.choice(pools.first_names)
    last = rng.choice(pools.last_names)
    style = rng.random()
    if style < 0.10:  # a married name: own name joined to the partner's
        partner = rng.choice(pools.last_names)
        name = f"{first} {last}-{partner}"
    elif style < 0.25:  # older systems often hold initials only
        initials = first[0] + "."
        if rng.random() < 0.4:
            initials += rng.choice(pools.first_names)[0] + "."
        name = f"{initials} {last}"
    else:
        name = f"{first} {last}"
    street = rng.choice(pools.streets)
    house = rng.randint(1, 40) if rng.random() < 0.7 else rng.randint(41, 350)
    kind = rng.random()
    if kind < 0.10:
        house_number = f"{house}{'ABCD'[rng.randrange(4)]}"
    elif kind < 0.16:
        house_number = f"{house}-{rng.randint(1, 4)}"
    else:
        house_number = str(house)
    city, region = rng.choice(pools.cities)
    digits = region * 100 + rng.randrange(100)
    letters = rng.choice(POSTCODE_SUFFIXES)
    postcode = f"{digits}{letters}" if rng.random() < 0.88 else f"{digits} {letters.lower()}"

    # Contact data: some missing, some outdated but still well-formed.
    r = rng.random()
    if r < 0.05:
        email = ""
    else:
        local = _email_local(rng, first=first, last=last)
        if r < 0.12:
            domain = rng.choice(OUTDATED_EMAIL_DOMAINS)
        else:
            domain = rng.choice(CURRENT_EMAIL_DOMAINS)
        email = f"{local}@{domain}"
    r = rng.random()
    if r < 0.03:
        phone = ""
    elif r < 0.06:
        phone = _landline(rng)
    else:
        phone = _mobile(rng, pick_mobile(rng))

    iban = _iban(rng, pick_bank(rng))
    language = "en" if rng.random() < 0.07 else "nl"

    # Payday: every household has one; the creditor does not always know it.
    as_of = paydays.as_of
    rule = pick_payday(rng)
    anchor_text = ""
    cycle = "monthly"
    if rule == PAYDAY_FOUR_WEEKLY:
        cycle = "four_weekly"
        anchor = as_of - rng.randrange(28)
        anchor_text = iso[anchor]
        calendar_days = paydays.four_weekly(anchor)
        payday_text = ""
    else:
        if rule == PAYDAY_25TH:
            day = 25
        elif rule == PAYDAY_1ST:
            day = 1
        else:
            day = rng.choice((15, 20, 21, 23, 24, 26, 27, 28, 30, 31, rng.randint(2, 31)))
        calendar_days = paydays.monthly(day)
        payday_text = "" if rule == PAYDAY_UNKNOWN else str(day)
    d_rows.append(
        (
            debtor_id,
            name,
            street,
            house_number,
            postcode,
            city,
            email,
            phone,
            iban,
            payday_text,
            language,
            cycle,
            anchor_text,
        )
    )

    # Invoices: the monthly advance, now and then a yearly settlement in its place.
    seq = months[rng.randint(1, 28)]
    # Skewed towards smaller households; with the +-4% monthly variation every advance
    # stays within 60 and 260 euros.
    base = 6_300 + rng.randrange(18_701) * rng.randrange(18_701) // 18_700
    base -= base % 100  # advances are set in whole euros
    settlement_at = rng.randrange(INVOICES_PER_DEBTOR) if rng.random() < 0.15 else -1
    invoices: list[tuple[str, int, int, int, str]] = []
    for k, month in enumerate(seq):
        invoice_id = invoice_prefix + month.id_suffix
        if k == settlement_at:
            amount = 2_500 + rng.randrange(60_001) * rng.randrange(60_001) // 60_000
            description = f"Jaarafrekening energie {month.year}"
        else:
            amount = base + rng.randint(-base // 25, base // 25)
            description = month.description
        invoices.append((invoice_id, month.issue, month.due, amount, month.abbr))
        i_rows.append(
            (
                invoice_id,
                debtor_id,
                contract_id,
                iso[month.issue],
                iso[month.due],
                format_cents(amount),
                description,
            )
        )

    behaviour = pick_behaviour(rng)
    plans = _plan_payments(
        rng,
        behaviour=behaviour,
        invoices=invoices,
        calendar_days=calendar_days,
        as_of=as_of,
        settlement_at=settlement_at,
    )
    serial = 0
    for pay_date, cents, covered in plans:
        if pay_date > as_of:
            continue
        serial += 1
        p_rows.append(
            (
                f"P{number:07d}-{serial:02d}",
                debtor_id,
                iso[pay_date],
                format_cents(cents),
                _reference(rng, invoices=invoices, covered=covered, contract_id=contract_id),
            )
        )


def _email_local(rng: random.Random, *, first: str, last: str) -> str:
    """Make a plausible mailbox name from a person's name."""
    f, surname = _ascii(first), _ascii(last)
    r = rng.random()
    if r < 0.35:
        local = f"{f}.{surname}"
    elif r < 0.55:
        local = f"{f[0]}.{surname}"
    elif r < 0.75:
        local = f"{f}{surname}{rng.randint(1, 99)}"
    elif r < 0.90:
        local = f"{f}{rng.randint(1950, 2005)}"
    else:
        local = f"{surname}.{f}"
    return local or f"klant{rng.randint(100, 999)}"


def _mobile(rng: random.Random, prefix: str) -> str:
    """Make a valid Dutch mobile number in one of the ways people write it."""
    rest = f"{rng.randrange(10_000_000):07d}"
    r = rng.random()
    if r < 0.35:
        return f"06-{prefix[1]}{rest}"
    if r < 0.65:
        return f"0{prefix}{rest}"
    if r < 0.85:
        return f"+31{prefix}{rest}"
    return f"+31 6 {prefix[1]}{rest[:3]} {rest[3:]}"


def _landline(rng: random.Random) -> str:
    """Make a valid Dutch fixed-line number (two-digit area code) in a human format."""
    area = rng.choice(LANDLINE_AREA_CODES)
    rest = f"{rng.randint(2, 9)}{rng.randrange(1_000_000):06d}"
    r = rng.random()
    if r < 0.4:
        return f"0{area}-{rest}"
    if r < 0.7:
        return f"0{area}{rest}"
    if r < 0.85:
        return f"+31{area}{rest}"
    return f"+31 {area} {rest[:3]} {rest[3:]}"


def _iban(rng: random.Random, bank_code: str) -> str:
    """Make a Dutch IBAN whose account number also passes the old elfproef."""
    while True:
        # Legacy Dutch accounts are nine digits, stored with a leading zero.
        head = f"0{rng.randint(10_000_000, 99_999_999)}"
        total = sum(int(digit) * (10 - i) for i, digit in enumerate(head))
        last = -total % 11  # the final digit has weight 1
        if last < 10:
            return nl_iban(bank_code=bank_code, account=f"{head}{last}")


def _partial(rng: random.Random, cents: int) -> int:
    """Pick a round part payment strictly between zero and ``cents``."""
    part = cents * rng.randint(20, 70) // 100
    part -= part % 500  # people pay round sums: 25, 40, 50 euros
    if part <= 0:
        part = cents // 2
    return part


def _plan_payments(
    rng: random.Random,
    *,
    behaviour: str,
    invoices: list[tuple[str, int, int, int, str]],
    calendar_days: list[int],
    as_of: int,
    settlement_at: int,
) -> list[tuple[int, int, list[int]]]:
    """Plan a debtor's payments as (date ordinal, cents, invoice indexes), oldest first.

    Dates may lie after ``as_of``; the caller drops those (not paid yet).
    """

    def next_payday(ordinal: int) -> int:
        return calendar_days[bisect_left(calendar_days, ordinal)]

    # [date, cents, covered invoice indexes, payday the payment follows (0: none)]
    plans: list[list] = []

    def on_time(k: int) -> None:
        _, issue, due, cents, _ = invoices[k]
        plans.append([rng.randint(issue + 1, due), cents, [k], 0])

    def after_payday(k: int, payday: int, cents: int, *, split: float) -> None:
        """Pay just after a payday, sometimes a round part now and the rest a payday later."""
        pay_date = payday + rng.randint(0, 2)
        if rng.random() < split and cents > 1_000:
            part = _partial(rng, cents)
            plans.append([pay_date, part, [k], payday])
            later = next_payday(pay_date + 1)
            plans.append([later + rng.randint(0, 2), cents - part, [k], later])
        else:
            plans.append([pay_date, cents, [k], payday])

    if behaviour == ON_TIME:
        for k in range(len(invoices)):
            on_time(k)
    elif behaviour == LATE:
        late_share = 0.15 + 0.30 * rng.random()
        for k, (_, _, due, cents, _) in enumerate(invoices):
            if rng.random() >= late_share:
                on_time(k)
                continue
            payday = next_payday(due + 5)
            if payday + 2 - due > 30:  # no payday in reach: just a few weeks late
                plans.append([due + rng.randint(5, 30), cents, [k], 0])
            else:
                after_payday(k, payday, cents, split=0.08)
    elif behaviour == SLEPER:
        late_share = 0.75 + 0.20 * rng.random()
        for k, (_, _, due, cents, _) in enumerate(invoices):
            if rng.random() >= late_share:
                on_time(k)
                continue
            payday = next_payday(due + 1)
            if rng.random() < 0.25:  # the money ran out: wait for the next payday
                payday = next_payday(payday + 1)
            after_payday(k, payday, cents, split=0.12)
    elif behaviour == INCOME_DROP:
        drop_at = len(invoices) - rng.randint(2, 8)
        pays_part = rng.random() < 0.55
        for k, (_, _, due, cents, _) in enumerate(invoices):
            if k < drop_at:
                on_time(k)
            elif pays_part and rng.random() < 0.7:
                payday = next_payday(due + 1)
                plans.append([payday + rng.randint(0, 3), _partial(rng, cents), [k], payday])
    elif behaviour == DISPUTE:
        overdue = [k for k, inv in enumerate(invoices) if inv[2] <= as_of - 14]
        # A disputed invoice is most often the yearly settlement, if there is one.
        disputed = settlement_at if settlement_at in overdue else rng.choice(overdue)
        for k in range(len(invoices)):
            if k != disputed:
                on_time(k)
    else:
        raise ValueError(f"unknown behaviour {behaviour!r}")

    plans.sort(key=lambda plan: plan[0])
    if behaviour in (LATE, SLEPER):
        # Two invoices waiting for the same payday are often paid in one transfer.
        merged: list[list] = []
        for plan in plans:
            prev = merged[-1] if merged else None
            if (
                prev is not None
                and plan[3]
                and plan[3] == prev[3]
                and plan[2] != prev[2]
                and rng.random() < 0.7
            ):
                prev[0] = max(prev[0], plan[0])
                prev[1] += plan[1]
                prev[2] = sorted(set(prev[2] + plan[2]))
            else:
                merged.append(plan)
        plans = merged
    return [(plan[0], plan[1], plan[2]) for plan in plans]


def _reference(
    rng: random.Random,
    *,
    invoices: list[tuple[str, int, int, int, str]],
    covered: list[int],
    contract_id: str,
) -> str:
    """Write the payment reference as a person would: usually the invoice number."""
    r = rng.random()
    if r < 0.05:
        return ""
    first = invoices[covered[0]]
    if len(covered) > 1 and covered[-1] != covered[0]:
        other = invoices[covered[-1]]
        if r < 0.55:
            return first[0]
        return rng.choice(
            (
                f"termijnen {first[4]} en {other[4]}",
                f"{first[4]}+{other[4]}",
                f"{first[0]} {other[0]}",
            )
        )
    if r < 0.12:
        return rng.choice(
            (
                f"termijn {first[4]}",
                f"energie {first[4]}",
                f"klantnr {contract_id}",
                "betaling energie",
                "energierekening",
            )
        )
    return first[0]
