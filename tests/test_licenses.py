from datetime import date, timedelta
from fractions import Fraction

import pytest
from dateutil.relativedelta import relativedelta
from hypothesis import given, settings
from hypothesis import strategies as st

from subbill import (
    InvalidArgumentError,
    LicenseAccount,
    LicenseLedger,
    Refused,
    RefusedError,
    renew,
    renewal_dashboard,
    renewal_status,
)
from subbill.errors import InputError, InvalidTypeError, OutOfBoundsError
from subbill.l10n import knows_refusal, label, refusal_text
from subbill.licenses import EntryKind, SeatRule, When, add_seats, renewal_form
from subbill.periods import add_months
from subbill.renewals import RenewalStatus
from tests.builders import account

D = date(2026, 1, 5)


def pools():
    ledger = LicenseLedger().grant("Partenaire", "TBox", 200, on=D)
    ledger = ledger.transfer("Partenaire", "Revendeur Ouest", "TBox", 60, on=D)
    return ledger.assign("Revendeur Ouest", "ACME/TBox", "TBox", 10, on=D)


def acme(**kw):
    """ACME's ten TBox seats from Revendeur Ouest, 1 June 2025 – 31 May 2026."""
    fields = {"seats": 10, "start": date(2025, 6, 1), "years": 1, "reseller": "Revendeur Ouest"}
    return account(**{"customer": "ACME", **fields, **kw})


def test_balances_are_derived_from_the_ledger():
    ledger = pools()
    assert ledger.balance("Partenaire", "TBox") == 140
    assert ledger.balance("Revendeur Ouest", "TBox") == 50
    assert ledger.balance("ACME/TBox", "TBox") == 10
    assert ledger.balance("Partenaire", "TSend") == 0
    assert sum(ledger.balances().values()) == ledger.granted("TBox") == 200


def test_the_renewal_form_shows_the_four_numbers_of_the_seed():
    form = renewal_form(
        acme(), years=2, seats=12, ledger=pools(), pool="Revendeur Ouest", on=date(2026, 4, 1)
    )
    assert (form.available, form.years, form.seats, form.left) == (50, 2, 12, 26)
    assert (form.start, form.end) == (
        date(2026, 6, 1),
        date(2028, 6, 1),
    )  # starts at the current end


def test_renewal_moves_licences_and_marks_the_account_renewed():
    done = renew(
        acme(), years=2, seats=12, ledger=pools(), pool="Revendeur Ouest", on=date(2026, 4, 1)
    )
    renewed, following, ledger = done.renewed, done.new_term, done.ledger
    assert renewed.renewed_by == following
    assert (done.form.seats, done.form.years, done.form.left) == (12, 2, 26)
    assert ledger.balance("Revendeur Ouest", "TBox") == 26
    assert ledger.balance("ACME/TBox", "TBox") == 34
    assert following.start == acme().end
    assert following.last_day == date(2028, 5, 31)
    assert renewal_status(renewed, as_of=date(2026, 4, 1)) is RenewalStatus.RENEWED
    assert renewed.last_day == date(2026, 5, 31)  # the current end date is still shown
    assert renewal_status(following, as_of=date(2026, 4, 1)) is RenewalStatus.NOT_STARTED
    with pytest.raises(RefusedError, match="already_renewed"):
        renew(renewed, years=1, ledger=ledger, pool="Revendeur Ouest", on=date(2026, 4, 2))


def test_renewal_beyond_the_pool_is_refused_with_the_numbers_and_changes_nothing():
    ledger = pools()
    form = renewal_form(
        acme(seats=30), years=2, ledger=ledger, pool="Revendeur Ouest", on=date(2026, 4, 1)
    )
    assert form.decision == Refused(
        code="not_enough_licences",
        facts={"holder": "Revendeur Ouest", "product": "TBox", "needed": "60", "available": "50"},
    )
    assert form.left == -10
    with pytest.raises(RefusedError, match="not_enough_licences"):
        renew(acme(seats=30), years=2, ledger=ledger, pool="Revendeur Ouest", on=date(2026, 4, 1))
    assert ledger == pools()
    assert refusal_text(form.decision, locale="fr_FR") == (
        "Licences insuffisantes chez Revendeur Ouest pour TBox : il en faut 60, il en reste 50."
    )


def test_an_expired_account_can_restart_on_a_later_date():
    following = renew(
        acme(),
        years=1,
        ledger=pools(),
        pool="Revendeur Ouest",
        on=date(2026, 9, 1),
        restart_on=date(2026, 9, 1),
    ).new_term
    assert (following.start, following.last_day) == (date(2026, 9, 1), date(2027, 8, 31))


def test_seats_added_mid_term_are_prorated_to_the_end():
    account = acme(start=date(2026, 1, 1), years=2)
    ledger = pools()
    grown, after, used = add_seats(
        account, 3, ledger=ledger, pool="Revendeur Ouest", on=date(2027, 7, 1)
    )
    assert used == Fraction(3 * 184, 365)
    assert grown.seats == 13
    assert after.balance("Revendeur Ouest", "TBox") == 50 - used
    _, _, whole = add_seats(
        account,
        3,
        ledger=ledger,
        pool="Revendeur Ouest",
        on=date(2026, 7, 1),
        rule=SeatRule.WHOLE_YEARS,
    )
    assert whole == 6  # two licence years started, counted whole


# -- status colours and boundaries -------------------------------------------------------------


def test_each_colour_of_the_seed():
    account = acme()  # 1 June 2025 – 31 May 2026
    cases = {
        date(2025, 5, 31): (RenewalStatus.NOT_STARTED, "blue"),
        date(2025, 12, 1): (RenewalStatus.ACTIVE, "none"),
        date(2026, 4, 1): (RenewalStatus.EXPIRING_SOON, "orange"),
        date(2026, 6, 1): (RenewalStatus.EXPIRED, "red"),
    }
    for as_of, (status, colour) in cases.items():
        assert renewal_status(account, as_of=as_of) is status
        assert status.colour == colour
    renewed = renew(
        account, years=1, ledger=pools(), pool="Revendeur Ouest", on=date(2026, 4, 1)
    ).renewed
    assert renewal_status(renewed, as_of=date(2026, 4, 1)).colour == "green"
    assert label("green", locale="fr_FR") == "vert ✓"


def test_exact_boundaries():
    account = acme(start=date(2025, 6, 15))  # last day 14 June 2026
    assert (
        renewal_status(account, as_of=date(2026, 3, 14)) is RenewalStatus.ACTIVE
    )  # exactly 3 months
    assert renewal_status(account, as_of=date(2026, 3, 15)) is RenewalStatus.EXPIRING_SOON
    assert (
        renewal_status(account, as_of=date(2026, 6, 13)) is RenewalStatus.EXPIRING_SOON
    )  # the day before
    assert (
        renewal_status(account, as_of=date(2026, 6, 14)) is RenewalStatus.EXPIRING_SOON
    )  # the end date
    assert renewal_status(account, as_of=date(2026, 6, 15)) is RenewalStatus.EXPIRED
    month_end = acme(start=date(2025, 6, 1))  # last day 31 May 2026
    assert renewal_status(month_end, as_of=date(2026, 2, 28)) is RenewalStatus.ACTIVE
    assert renewal_status(month_end, as_of=date(2026, 3, 1)) is RenewalStatus.EXPIRING_SOON
    assert (
        renewal_status(month_end, as_of=date(2026, 3, 1), warning=relativedelta(months=1))
        is RenewalStatus.ACTIVE
    )


def test_dashboard_counts_companies_to_renew_by_reseller_and_sorts_by_end():
    accounts = [
        acme(),
        acme(product="TSend", seats=3),
        LicenseAccount(customer="Beta", product="TBox", seats=4, start=date(2025, 3, 1), years=1),
        account(
            customer="Gamma",
            product="TSend",
            seats=8,
            start=date(2025, 9, 1),
            years=2,
            reseller="Revendeur Est",
        ),
        LicenseAccount(customer="Delta", product="TBox", seats=2, start=date(2026, 9, 1), years=1),
    ]
    board = renewal_dashboard(accounts, as_of=date(2026, 4, 1))
    assert board.companies_to_renew == 2  # ACME (two products, one company) and Beta (expired)
    assert board.by_reseller == ((None, 1), ("Revendeur Ouest", 1))
    assert [(r.customer, r.end, r.status.colour) for r in board.rows] == [
        ("Beta", date(2026, 2, 28), "red"),
        ("ACME", date(2026, 5, 31), "orange"),
        ("ACME", date(2026, 5, 31), "orange"),
        ("Delta", date(2027, 8, 31), "blue"),  # same end date: by customer name
        ("Gamma", date(2027, 8, 31), "none"),
    ]
    first = board.rows[0]
    assert (first.start, first.years, first.seats) == (date(2025, 3, 1), 1, 4)
    assert first.licence_years == 4


# -- properties ----------------------------------------------------------------------

HOLDERS = ["Partenaire", "Revendeur A", "Revendeur B", "Client 1", "Client 2"]
operation = st.tuples(
    st.sampled_from(["grant", "transfer", "assign", "return"]),
    st.sampled_from(HOLDERS),
    st.sampled_from(HOLDERS),
    st.sampled_from(["TBox", "TSend"]),
    st.fractions(min_value=Fraction(1, 12), max_value=50, max_denominator=365),
)


@given(st.lists(operation, max_size=40))
def test_licence_years_are_conserved_and_no_pool_goes_negative(operations):
    ledger = LicenseLedger()
    for kind, source, target, product, years in operations:
        try:
            if kind == "grant":
                ledger = ledger.grant(source, product, years, on=D)
            elif source != target:
                verb = {
                    "transfer": ledger.transfer,
                    "assign": ledger.assign,
                    "return": ledger.give_back,
                }[kind]
                ledger = verb(source, target, product, years, on=D)
        except RefusedError as error:
            assert knows_refusal(error.refusal.code)  # noqa: PT017 (checked inside the loop)
        for product_name in ("TBox", "TSend"):
            held = sum(v for (_, p), v in ledger.balances().items() if p == product_name)
            assert held == ledger.granted(product_name)
        assert all(balance >= 0 for balance in ledger.balances().values())


@given(
    st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31)),
    st.lists(st.integers(1, 3), min_size=1, max_size=4),
    st.lists(st.integers(0, 2000), min_size=2, max_size=30),
)
def test_every_account_has_one_status_that_only_moves_forward(start, years, offsets):
    # A chain of len(years) - 1 renewals, each starting at the previous end. Read from its
    # first term, the status only moves forward; it is green exactly while a renewed term is
    # valid, and the last term's colours follow (issue 11: not green for ever).
    ledger = LicenseLedger().grant("R", "TBox", 100, on=date(2019, 1, 1))
    first = term = LicenseAccount(
        customer="C", product="TBox", seats=1, start=start, years=years[0]
    )
    renewed_until, stored = None, []  # the terms a store keeps, as renew returned them
    for length in years[1:]:
        done = renew(term, years=length, ledger=ledger, pool="R", on=term.start)
        renewed_until, term, ledger = term.last_day, done.new_term, done.ledger
        stored.append(done.renewed)
    stored.append(term)
    order = [
        RenewalStatus.NOT_STARTED,
        RenewalStatus.RENEWED,
        RenewalStatus.ACTIVE,
        RenewalStatus.EXPIRING_SOON,
        RenewalStatus.EXPIRED,
    ]
    days = sorted(date(2019, 6, 1) + timedelta(days=n * 3) for n in offsets)
    seen = [renewal_status(first, as_of=d, terms=stored) for d in days]
    ranks = [order.index(s) for s in seen]
    assert ranks == sorted(ranks)
    for day, status in zip(days, seen, strict=True):
        green = renewed_until is not None and start <= day <= renewed_until
        assert (status is RenewalStatus.RENEWED) == green
        if not green and day >= start:
            assert status is renewal_status(term, as_of=day)  # the last term's colours


def test_a_chain_of_renewals_from_february_29_comes_back_to_the_29th():
    ledger = LicenseLedger().grant("R", "TBox", 100, on=date(2024, 1, 1))
    account = LicenseAccount(
        customer="C", product="TBox", seats=1, start=date(2024, 2, 29), years=1
    )
    ends = []
    for year in range(4):
        done = renew(account, years=1, ledger=ledger, pool="R", on=date(2025 + year, 1, 1))
        account, ledger = done.new_term, done.ledger
        ends.append(account.last_day)
    assert ends == [date(2026, 2, 27), date(2027, 2, 27), date(2028, 2, 28), date(2029, 2, 27)]
    assert account.start == date(2028, 2, 29)  # the term starts on the 29th again


def test_the_dashboard_shows_the_renewal_once_the_renewed_term_is_over():
    done = renew(acme(), years=1, ledger=pools(), pool="Revendeur Ouest", on=date(2026, 4, 1))
    renewed, following = done.renewed, done.new_term
    during = renewal_dashboard([renewed, following], as_of=date(2026, 5, 31))
    assert [(r.start, r.status) for r in during.rows] == [(date(2025, 6, 1), RenewalStatus.RENEWED)]
    after = renewal_dashboard([renewed, following], as_of=date(2026, 6, 1))
    assert [(r.start, r.end, r.status) for r in after.rows] == [
        (date(2026, 6, 1), date(2027, 5, 31), RenewalStatus.ACTIVE)
    ]
    much_later = renewal_dashboard([renewed], as_of=date(2030, 1, 1))
    assert [r.status for r in much_later.rows] == [RenewalStatus.EXPIRED]
    assert much_later.companies_to_renew == 1


def test_a_movement_may_not_empty_a_pool_before_it_was_filled():
    ledger = LicenseLedger().grant("P", "TBox", 10, on=date(2024, 6, 1))
    with pytest.raises(RefusedError, match="not_enough_licences"):
        ledger.transfer("P", "R", "TBox", 5, on=date(2024, 1, 1))
    later = ledger.transfer("P", "R", "TBox", 8, on=date(2024, 9, 1))
    with pytest.raises(RefusedError, match=r"available='2'"):
        later.transfer("P", "S", "TBox", 5, on=date(2024, 7, 1))  # would leave -3 from 1 Sept


def test_grants_only_through_grant():
    with pytest.raises(InvalidArgumentError, match="kind=grant has no source"):
        LicenseLedger().move(
            EntryKind.GRANT, source="R", target="X", product="TBox", licence_years=3, on=D
        )


def test_a_grant_through_move_is_refused_in_plain_words():
    # The review: the message read « use grant() to bring licence-licence_years in ».
    with pytest.raises(InvalidArgumentError) as caught:
        LicenseLedger().move(
            EntryKind.GRANT, source="R", target="X", product="TBox", licence_years=3, on=D
        )
    assert str(caught.value) == "kind=grant has no source: use grant() to bring licence-years in"


def test_the_verbs_refuse_what_is_not_an_account_or_a_ledger_with_a_typed_error():
    # The review: each raised a raw AttributeError.
    ledger = pools()
    with pytest.raises(InvalidTypeError, match=r"^account='x' must be a LicenseAccount$"):
        renew("x", years=1, ledger=ledger, pool="Revendeur Ouest", on=D)
    with pytest.raises(InvalidTypeError, match=r"^ledger='x' must be a LicenseLedger$"):
        renewal_form(acme(), years=1, ledger="x", pool="Revendeur Ouest", on=D)
    with pytest.raises(InvalidTypeError, match=r"^account='x' must be a LicenseAccount$"):
        add_seats("x", 2, ledger=ledger, pool="Revendeur Ouest", on=D)
    with pytest.raises(InvalidTypeError, match=r"^ledger=None must be a LicenseLedger$"):
        add_seats(acme(), 2, ledger=None, pool="Revendeur Ouest", on=D)


def test_a_wrong_keyword_names_the_public_verb_called():
    # The review: transfer(..., when=d) blamed the private _to(), renew(..., colour=1)
    # blamed renewal_form().
    ledger = pools()
    verbs = {"transfer": ledger.transfer, "assign": ledger.assign, "give_back": ledger.give_back}
    for name, verb in verbs.items():
        unexpected = rf"\b{name}\(\) got an unexpected keyword argument 'when'"
        with pytest.raises(TypeError, match=unexpected):
            verb("Partenaire", "Revendeur Ouest", "TBox", 1, when=D)
    with pytest.raises(TypeError, match=r"\bgrant\(\) got an unexpected keyword argument 'when'"):
        ledger.grant("Partenaire", "TBox", 1, when=D)
    missing_on = r"\bgrant\(\) missing 1 required keyword-only argument: 'on'"
    with pytest.raises(TypeError, match=missing_on):
        ledger.grant("Partenaire", "TBox", 1)
    with pytest.raises(TypeError, match=r"\brenew\(\) got an unexpected keyword argument 'colour'"):
        renew(acme(), years=1, ledger=ledger, pool="Revendeur Ouest", on=D, colour=1)
    # The keywords still read from a dict typed as before.
    when: When = {"on": D, "reference": "R-1"}
    moved = ledger.transfer("Partenaire", "Revendeur Ouest", "TBox", 1, **when)
    assert moved.entries[-1].reference == "R-1"


def test_an_account_holds_at_most_a_trillion_seats_for_1_to_99_years():
    # The review: seats=10**20 and years=900 were accepted (also by « accounts load »).
    with pytest.raises(OutOfBoundsError, match=r"^seats=100000000000000000000 must be at most "):
        acme(seats=10**20)
    with pytest.raises(OutOfBoundsError, match=r"^years=900 must be at most 99"):
        acme(years=900)
    with pytest.raises(InvalidArgumentError, match=r"^years=0 must be an int >= 1"):
        acme(years=0)
    with pytest.raises(InvalidTypeError, match=r"^seats='6' must be an int >= 1"):
        acme(seats="6")
    assert acme(seats=10**12, years=99).last_day == date(2124, 5, 31)
    with pytest.raises(OutOfBoundsError, match=r"^years=100 must be at most 99"):
        renewal_form(acme(), years=100, ledger=pools(), pool="Revendeur Ouest", on=D)
    with pytest.raises(InputError, match=r"^seats: seats=100000000000000000000 must be at most"):
        LicenseAccount.from_mapping(
            {"customer": "A", "product": "TBox", "seats": 10**20, "start": "2025-06-01",
             "years": 1}
        )  # fmt: skip


@settings(max_examples=200)
@given(
    anchor=st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31)),
    terms=st.lists(st.integers(1, 4), min_size=1, max_size=6),
)
def test_a_chain_of_terms_ends_where_the_anchor_says_never_drifting(anchor, terms):
    # Each term starts where the previous ended and keeps the first term's start as anchor:
    # after any chain, the end is the anchor moved by all the years, its day kept (29 Feb
    # comes back in leap years), as one term of that length would end.
    start, total = anchor, 0
    for years in terms:
        account = LicenseAccount(
            customer="C", product="P", seats=1, start=start, years=years, anchor=anchor
        )
        total += years
        assert account.end == add_months(anchor, 12 * total)
        start = account.end
