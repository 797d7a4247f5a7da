"""Bank statements: read CAMT.053 and MT940 files, import them, match incoming payments.

- ``parsing.statement_parse`` (pure): a file's bytes → statements and entries, or a
  ``StatementError`` naming the file, line, field and reason;
- ``importing.statement_import`` / ``statement_assign``: store statements and their entries
  once (a second import changes nothing) and match them;
- ``matching``: find the debtor an incoming payment is from; ``booking``: book the matches
  (``payment_book`` in bulk);
- ``worklist``: what the matching left for a person (``entry_assign``, ``entry_ignore``).
"""

from .parsed import ParsedEntry, ParsedFile, ParsedStatement, StatementError
from .parsing import statement_format, statement_parse

__all__ = [
    "ParsedEntry",
    "ParsedFile",
    "ParsedStatement",
    "StatementError",
    "statement_format",
    "statement_parse",
]
