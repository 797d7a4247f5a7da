"""Synthetic bank statement files (tests, the demo): CAMT.053 .02/.04/.08 and MT940.

Every name, IBAN and amount here is made up. The CAMT files follow the XSDs in
../shared/testdata/xsd (the tests validate them when that directory is there).
"""

from dataclasses import dataclass, field
from datetime import date
from xml.sax.saxutils import escape

CREDITOR_IBAN = "NL02ABNA0123456789"


@dataclass
class Tx:
    amount_cents: int  # negative for a debit
    name: str = ""
    iban: str = ""
    ustrd: str = ""
    ref: str = ""  # a structured creditor reference (CdtrRefInf/Ref)
    e2e: str = ""
    booked: date = date(2026, 11, 2)
    reversal: bool = False
    return_code: str = ""
    bank_ref: str = ""


@dataclass
class Stmt:
    txs: list[Tx] = field(default_factory=list)
    account: str = CREDITOR_IBAN
    statement_id: str = "STMT-1"
    opening_cents: int = 100000
    day: date = date(2026, 11, 2)


def _amount(cents: int) -> str:
    return f"{abs(cents) // 100}.{abs(cents) % 100:02d}"


def _party(version: str, role: str, name: str, iban: str) -> str:
    out = ""
    if name:
        inner = f"<Nm>{escape(name)}</Nm>"
        out += (
            f"<{role}><Pty>{inner}</Pty></{role}>"
            if version == "08"
            else f"<{role}>{inner}</{role}>"
        )
    if iban:
        out += f"<{role}Acct><Id><IBAN>{iban}</IBAN></Id></{role}Acct>"
    return out


def _tx_details(version: str, tx: Tx) -> str:
    credit = tx.amount_cents > 0
    indicator = "CRDT" if credit else "DBIT"
    refs = "<Refs>"
    if tx.e2e:
        refs += f"<EndToEndId>{escape(tx.e2e)}</EndToEndId>"
    else:
        refs += "<EndToEndId>NOTPROVIDED</EndToEndId>"
    refs += "</Refs>"
    if version == "02":
        amount = (
            f'<AmtDtls><TxAmt><Amt Ccy="EUR">{_amount(tx.amount_cents)}</Amt></TxAmt></AmtDtls>'
        )
    else:
        amount = (
            f'<Amt Ccy="EUR">{_amount(tx.amount_cents)}</Amt><CdtDbtInd>{indicator}</CdtDbtInd>'
        )
    parties = _party(version, "Dbtr" if credit else "Cdtr", tx.name, tx.iban)
    parties = f"<RltdPties>{parties}</RltdPties>" if parties else ""
    remittance = ""
    if tx.ustrd or tx.ref:
        remittance = "<RmtInf>"
        if tx.ustrd:
            remittance += f"<Ustrd>{escape(tx.ustrd)}</Ustrd>"
        if tx.ref:
            remittance += (
                "<Strd><CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry></Tp>"
                f"<Ref>{escape(tx.ref)}</Ref></CdtrRefInf></Strd>"
            )
        remittance += "</RmtInf>"
    returned = f"<RtrInf><Rsn><Cd>{tx.return_code}</Cd></Rsn></RtrInf>" if tx.return_code else ""
    return f"<TxDtls>{refs}{amount}{parties}{remittance}{returned}</TxDtls>"


def _entry(version: str, tx: Tx) -> str:
    credit = tx.amount_cents > 0
    status = "<Sts><Cd>BOOK</Cd></Sts>" if version == "08" else "<Sts>BOOK</Sts>"
    family = "RCDT" if credit else "ICDT"
    return (
        f'<Ntry><Amt Ccy="EUR">{_amount(tx.amount_cents)}</Amt>'
        f"<CdtDbtInd>{'CRDT' if credit else 'DBIT'}</CdtDbtInd>"
        + ("<RvslInd>true</RvslInd>" if tx.reversal else "")
        + f"{status}<BookgDt><Dt>{tx.booked.isoformat()}</Dt></BookgDt>"
        f"<ValDt><Dt>{tx.booked.isoformat()}</Dt></ValDt>"
        + (f"<AcctSvcrRef>{escape(tx.bank_ref)}</AcctSvcrRef>" if tx.bank_ref else "")
        + f"<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>{family}</Cd><SubFmlyCd>ESCT</SubFmlyCd>"
        "</Fmly></Domn></BkTxCd>"
        f"<NtryDtls>{_tx_details(version, tx)}</NtryDtls></Ntry>"
    )


def _balance(code: str, cents: int, day: date) -> str:
    return (
        f"<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp>"
        f'<Amt Ccy="EUR">{_amount(cents)}</Amt>'
        f"<CdtDbtInd>{'CRDT' if cents >= 0 else 'DBIT'}</CdtDbtInd>"
        f"<Dt><Dt>{day.isoformat()}</Dt></Dt></Bal>"
    )


def camt053(statements: list[Stmt], *, version: str = "02", message_id: str = "MSG-1") -> bytes:
    """A camt.053.001.<version> file with the given statements (one ``Stmt`` each)."""
    body = []
    for stmt in statements:
        closing = stmt.opening_cents + sum(tx.amount_cents for tx in stmt.txs)
        body.append(
            f"<Stmt><Id>{escape(stmt.statement_id)}</Id>"
            f"<CreDtTm>{stmt.day.isoformat()}T18:00:00</CreDtTm>"
            f"<Acct><Id><IBAN>{stmt.account}</IBAN></Id><Ccy>EUR</Ccy></Acct>"
            + _balance("OPBD", stmt.opening_cents, stmt.day)
            + _balance("CLBD", closing, stmt.day)
            + "".join(_entry(version, tx) for tx in stmt.txs)
            + "</Stmt>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.{version}">\n'
        f"<BkToCstmrStmt><GrpHdr><MsgId>{message_id}</MsgId>"
        f"<CreDtTm>2026-11-02T18:00:00</CreDtTm></GrpHdr>\n" + "\n".join(body) + "\n"
        "</BkToCstmrStmt></Document>\n"
    ).encode()


def mt940(txs: list[Tx], *, account: str = CREDITOR_IBAN, opening_cents: int = 100000) -> bytes:
    """An MT940 statement in the ING/ABN AMRO SEPA style (structured :86:)."""
    day = txs[0].booked if txs else date(2026, 11, 2)
    closing = opening_cents + sum(tx.amount_cents for tx in txs)
    lines = [
        ":20:STMT-940",
        f":25:{account}",
        ":28C:00001/1",
        f":60F:C{day:%y%m%d}EUR{_amount(opening_cents).replace('.', ',')}",
    ]
    for tx in txs:
        mark = "C" if tx.amount_cents > 0 else "D"
        lines.append(
            f":61:{tx.booked:%y%m%d}{tx.booked:%m%d}{mark}"
            f"{_amount(tx.amount_cents).replace('.', ',')}NTRFNONREF//{tx.bank_ref or 'B1'}"
        )
        details = "/TRTP/SEPA OVERBOEKING"
        if tx.iban:
            details += f"/IBAN/{tx.iban}/BIC/ABNANL2A"
        if tx.name:
            details += f"/NAME/{tx.name}"
        details += f"/REMI/{tx.ustrd}/EREF/{tx.e2e or 'NOTPROVIDED'}"
        chunks = [details[i : i + 65] for i in range(0, len(details), 65)]
        lines.append(":86:" + chunks[0])
        lines.extend(chunks[1:])
    lines.append(f":62F:C{day:%y%m%d}EUR{_amount(closing).replace('.', ',')}")
    lines.append("-")
    return ("\r\n".join(lines) + "\r\n").encode()
