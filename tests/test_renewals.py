"""Renewal chains (issue 11, « Renewals (seed 002) »): status and dashboard after renewals."""

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from subbill import LicenseAccount, LicenseLedger, renew, renewal_dashboard, renewal_status
from subbill.l10n import dashboard_text
from subbill.renewals import RenewalStatus

POOL = "Revendeur Ouest"


def acme() -> LicenseAccount:
    """1 June 2025 – 31 May 2026, ten users."""
    return LicenseAccount(
        customer="ACME", product="TBox", seats=10, start=date(2025, 6, 1), years=1, reseller=POOL
    )


def ledger() -> LicenseLedger:
    return LicenseLedger().grant(POOL, "TBox", 500, on=date(2025, 1, 1))


def test_a_renewed_term_is_green_only_while_it_is_still_valid():
    first = renew(acme(), years=2, seats=12, ledger=ledger(), pool=POOL, on=date(2026, 4, 1))
    old = first.renewed
    assert first.new_term.last_day == date(2028, 5, 31)
    assert renewal_status(old, as_of=date(2026, 5, 31)) is RenewalStatus.RENEWED  # its last day
    assert renewal_status(old, as_of=date(2026, 6, 1)) is RenewalStatus.ACTIVE  # the new term
    # Two years after the old term ended, the new term ends in less than three months.
    assert renewal_status(old, as_of=date(2028, 4, 16)) is RenewalStatus.EXPIRING_SOON
    assert renewal_status(old, as_of=date(2028, 6, 1)) is RenewalStatus.EXPIRED
    assert renewal_status(old, as_of=date(2025, 5, 31)) is RenewalStatus.NOT_STARTED


def renewals(count: int) -> list[LicenseAccount]:
    """The terms a store holds after ``count`` one-year renewals of ACME, each made on 1 April.

    As a store keeps them: each renewed term as ``renew`` returned it (its ``renewed_by`` is
    the copy of the next term made then, not yet renewed itself), then the last term.
    """
    terms, term, book = [], acme(), ledger()
    for year in range(count):
        done = renew(term, years=1, ledger=book, pool=POOL, on=date(2026 + year, 4, 1))
        terms.append(done.renewed)
        term, book = done.new_term, done.ledger
    return [*terms, term]


def rows(terms: list[LicenseAccount], as_of: date) -> list[tuple[date, date, RenewalStatus]]:
    board = renewal_dashboard(terms, as_of=as_of)
    return [(row.start, row.end, row.status) for row in board.rows]


def test_the_dashboard_after_two_renewals_shows_the_current_term():
    terms = renewals(2)  # 2025-26 renewed, 2026-27 renewed, 2027-28
    assert rows(terms, date(2026, 5, 31)) == [
        (date(2025, 6, 1), date(2026, 5, 31), RenewalStatus.RENEWED)
    ]
    # The second term was renewed on 1 April 2027: green, not the stale orange copy.
    assert rows(terms, date(2027, 4, 16)) == [
        (date(2026, 6, 1), date(2027, 5, 31), RenewalStatus.RENEWED)
    ]
    assert renewal_dashboard(terms, as_of=date(2027, 4, 16)).companies_to_renew == 0
    status = renewal_status(terms[0], as_of=date(2027, 4, 16), terms=terms)
    assert status is RenewalStatus.RENEWED  # the status agrees, given the stored terms
    assert rows(terms, date(2027, 6, 1)) == [
        (date(2027, 6, 1), date(2028, 5, 31), RenewalStatus.ACTIVE)
    ]
    assert rows(terms, date(2028, 4, 16)) == [
        (date(2027, 6, 1), date(2028, 5, 31), RenewalStatus.EXPIRING_SOON)
    ]
    assert renewal_dashboard(terms, as_of=date(2028, 4, 16)).companies_to_renew == 1
    # In any order, and from the renewed terms alone.
    assert rows(terms[::-1], date(2027, 6, 1)) == rows(terms, date(2027, 6, 1))
    assert rows(terms[:2], date(2027, 6, 1)) == rows(terms, date(2027, 6, 1))


def test_the_dashboard_after_three_renewals_shows_the_current_term():
    terms = renewals(3)  # 2025-26, 2026-27, 2027-28 renewed; 2028-29
    expected = {
        date(2026, 4, 16): (date(2025, 6, 1), RenewalStatus.RENEWED),
        date(2027, 4, 16): (date(2026, 6, 1), RenewalStatus.RENEWED),
        date(2028, 4, 16): (date(2027, 6, 1), RenewalStatus.RENEWED),
        date(2028, 6, 1): (date(2028, 6, 1), RenewalStatus.ACTIVE),
        date(2029, 4, 16): (date(2028, 6, 1), RenewalStatus.EXPIRING_SOON),
        date(2029, 6, 1): (date(2028, 6, 1), RenewalStatus.EXPIRED),
    }
    for as_of, (start, status) in expected.items():
        board = renewal_dashboard(terms, as_of=as_of)
        assert [(row.start, row.status) for row in board.rows] == [(start, status)], as_of
        assert board.companies_to_renew == (1 if status.needs_renewal else 0)
        assert board.rows[0].seats == 10


def test_renew_returns_a_named_record():
    done = renew(acme(), years=2, seats=12, ledger=ledger(), pool=POOL, on=date(2026, 4, 1))
    assert done.renewed == LicenseAccount(
        customer="ACME",
        product="TBox",
        seats=10,
        start=date(2025, 6, 1),
        years=1,
        reseller=POOL,
        renewed_by=done.new_term,
    )
    assert (done.new_term.start, done.new_term.seats, done.new_term.years) == (
        date(2026, 6, 1),
        12,
        2,
    )
    assert done.ledger.balance(POOL, "TBox") == 500 - 24
    assert (done.form.available, done.form.left) == (500, 476)


def test_the_licences_column_counts_seats_and_says_so():
    account = LicenseAccount(
        customer="ACME", product="TBox", seats=10, start=date(2025, 6, 1), years=2
    )
    row = renewal_dashboard([account], as_of=date(2027, 4, 1)).rows[0]
    assert (row.seats, row.years, row.licence_years) == (10, 2, 20)
    board = renewal_dashboard([account], as_of=date(2027, 4, 1))
    assert "Licences to renew (seats)" in dashboard_text(board, locale="en_GB")
    assert "Licences à renouveler (utilisateurs)" in dashboard_text(board, locale="fr_FR")


# -- properties ----------------------------------------------------------------------------

renewal_steps = st.lists(
    st.tuples(st.integers(1, 3), st.integers(1, 20), st.integers(0, 400)), max_size=4
)


@given(
    st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31)),
    renewal_steps,
    st.randoms(use_true_random=False),
    st.lists(st.integers(-400, 6000), min_size=1, max_size=12),
)
def test_after_n_renewals_exactly_one_term_of_a_chain_is_current_on_any_date(
    start, steps, random, offsets
):
    # Renewals at the end or, with a gap, restarted later; the terms as a store keeps them,
    # with out-of-date copies of some terms added, in any order.
    book = LicenseLedger().grant(POOL, "TBox", 10_000, on=date(2019, 1, 1))
    term = LicenseAccount(customer="C", product="TBox", seats=3, start=start, years=1)
    chain, stored = [], []
    for years, seats, gap in steps:
        restart = term.end + timedelta(days=gap) if gap else None
        done = renew(
            term,
            years=years,
            seats=seats,
            ledger=book,
            pool=POOL,
            on=restart or term.start,
            restart_on=restart,
        )
        chain.append(done.renewed)
        stored.extend((done.renewed, term))  # term: the copy before it was renewed
        term, book = done.new_term, done.ledger
    chain.append(term)
    stored.append(term)
    random.shuffle(stored)
    for offset in offsets:
        as_of = start + timedelta(days=offset)
        board = renewal_dashboard(stored, as_of=as_of)
        # The first term not yet over on that day, or the last term.
        current = next((t for t in chain if as_of <= t.last_day), chain[-1])
        assert [(row.start, row.end, row.seats) for row in board.rows] == [
            (current.start, current.last_day, current.seats)
        ]
        status = board.rows[0].status
        assert status is renewal_status(chain[0], as_of=as_of, terms=stored)
        assert (status is RenewalStatus.RENEWED) == (
            current is not chain[-1] and current.start <= as_of
        )
        assert board.companies_to_renew == (1 if status.needs_renewal else 0)
