"""The one rule every store applies when it reserves an invoice number.

Gapless comes from reserving inside the transaction that adds the invoice; chronological
comes from here: a number is never issued with a date before the last one's, so the order
of the numbers is the order of the dates (French invoicing rules).
"""

from __future__ import annotations

from datetime import date

from subbill._validate import check_line, lines_pass
from subbill.errors import InvalidStateError
from subbill.invoices import InvoiceNumbering
from subbill.periods import check_date

__all__ = ["reserve_numbers"]


def reserve_numbers(
    numbering: InvoiceNumbering,
    previous: str | None,
    count: int,
    *,
    last_issued_on: date | None,
    issued_on: date,
) -> list[str]:
    """The ``count`` numbers after ``previous`` for invoices dated ``issued_on``, if dates allow.

    >>> from datetime import date
    >>> reserve_numbers(InvoiceNumbering(), "F-2026-000001", 2,
    ...                 last_issued_on=date(2026, 3, 1), issued_on=date(2026, 3, 1))
    ['F-2026-000002', 'F-2026-000003']
    >>> reserve_numbers(InvoiceNumbering(), "F-2026-000001", 1,
    ...                 last_issued_on=date(2026, 6, 1), issued_on=date(2026, 3, 1))
    Traceback (most recent call last):
    ...
    subbill.errors.InvalidStateError: issued_on=2026-03-01 is before 2026-06-01, the date of ...
    """
    check_date("issued_on", issued_on)
    if last_issued_on is not None and issued_on < last_issued_on:
        raise InvalidStateError(
            f"issued_on={issued_on.isoformat()} is before {last_issued_on.isoformat()}, the "
            f"date of the last invoice issued ({previous}): invoice numbers must follow the "
            "order of their dates; issue it on or after that date"
        )
    numbers = numbering.next_numbers(previous, count, issued_on=issued_on)
    # A custom numbering's numbers are checked here, before a store writes the last one in
    # its sequence (a lone surrogate reached SQLite's encoder: a raw UnicodeEncodeError that
    # rolled back the whole page), with the error finalizing the invoice would raise.
    if not lines_pass(numbers):
        for number in numbers:
            check_line("number", number)
    return numbers
