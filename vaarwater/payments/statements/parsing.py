"""Tell a statement file's format from its content and parse it (no Django here)."""

import re

from .camt import SUPPORTED_TEXT, parse_camt
from .mt940 import parse_mt940
from .parsed import ParsedFile, StatementError

MT_TYPE_RE = re.compile(rb"\{2:[IO](\d{3})")


def statement_format(raw: bytes) -> str:
    """``'xml'`` or ``'mt940'``; StatementError naming what the file is when it is neither.

    >>> statement_format(b"<?xml version='1.0'?><Document/>"), statement_format(b":20:X\\n:25:Y")
    ('xml', 'mt940')
    """
    head = raw[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if not head:
        raise StatementError("the file is empty")
    if head.startswith(b"<") or head.startswith((b"\xff\xfe<\x00", b"\xfe\xff\x00<")):
        return "xml"  # UTF-8, or UTF-16 with its byte order mark
    mt_type = MT_TYPE_RE.search(head)
    if mt_type and mt_type.group(1) != b"940":
        kind = mt_type.group(1).decode()
        what = "an interim transaction report" if kind == "942" else "a SWIFT message"
        raise StatementError(f"MT{kind} is {what}, not a statement (MT940); {SUPPORTED_TEXT}")
    if re.search(rb"(?m)^:20:", head) or re.search(rb"(?m)^:(25|28C?|60[FM]|61):", head):
        if re.search(rb"(?m)^:(13D|34F):", raw[:65536]) and not re.search(
            rb"(?m)^:60[FM]:", raw[:65536]
        ):
            raise StatementError(
                f"MT942 (an interim transaction report) is not a statement (MT940); "
                f"{SUPPORTED_TEXT}"
            )
        return "mt940"
    if head.startswith((b"---", b"%YAML")) or re.match(rb"^(&\w+ )?!!python/", head):
        raise StatementError(
            f"a YAML file (such as a parser's expected output), not a statement file; "
            f"{SUPPORTED_TEXT}"
        )
    if head.startswith(b"%PDF"):
        raise StatementError(f"a PDF document is not a statement file; {SUPPORTED_TEXT}")
    if head.startswith(b"PK\x03\x04"):
        raise StatementError(f"a ZIP archive: unpack it first; {SUPPORTED_TEXT}")
    if head.startswith(b"\x1f\x8b"):
        raise StatementError(f"a gzip-compressed file: unpack it first; {SUPPORTED_TEXT}")
    raise StatementError(f"neither CAMT.053 (XML) nor MT940; {SUPPORTED_TEXT}")


def statement_parse(raw: bytes, *, file_name: str = "") -> ParsedFile:
    """Parse a CAMT.053 or MT940 file; StatementError (file, line, field, reason) if not."""
    try:
        kind = statement_format(raw)
    except StatementError as exc:
        raise StatementError(exc.reason, file_name=file_name, line=1) from None
    if kind == "xml":
        return parse_camt(raw, file_name=file_name)
    return parse_mt940(raw, file_name=file_name)
