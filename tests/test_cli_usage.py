"""``subbill usage load FILE``: usage records from JSON or CSV, each added once (issue 15).

The format is docs/formats.md#usage-records (its examples load through tests/test_cli.py);
here: idempotence, what is said in English and French, and every refusal adding nothing.
"""

import json
from datetime import date
from pathlib import Path

import pytest

from subbill import cli
from subbill.invoices import LineKind
from subbill.periods import Period
from subbill.storage import SQLiteStore
from subbill.storage._arguments import LATEST_BEFORE
from tests.stores import database_content
from tests.test_cli import (
    CATALOG,
    assert_one_line_error,
    load_database,
    run,
    write_json,
)
from tests.test_usage_store import record

HEADER = "subscription,metric,quantity,used_on,key,properties.user\n"
CSV = (
    HEADER
    + "S1,api_calls,1200,2026-03-02,evt_1,\n"
    + "S1,active_users,1,2026-03-03,evt_2,u_42\n"
    + "\n"  # a blank line is skipped
    + "S2,storage_gb,2.5,2026-03-15,evt_3,\n"
)
USAGE = {
    "usage": [
        {
            "subscription": "S1",
            "metric": "api_calls",
            "quantity": 1200,
            "used_on": "2026-03-02",
            "key": "evt_1",
        },
        {
            "subscription": "S1",
            "metric": "active_users",
            "quantity": "1",
            "used_on": "2026-03-03",
            "key": "evt_2",
            "properties": {"user": "u_42"},
        },
    ]
}


def _metered(code: str, metric: dict[str, str]) -> dict[str, object]:
    model = {"kind": "per_unit", "unit_price": "0.01"}
    return {"code": code, "description": code, "metric": metric, "model": model}


#: tests/test_cli.py's SaaS catalog, its plans measuring what CSV's records count: S1 is on
#: Essentiel (API calls, active users), S2 on Pro (storage).
METERED = {
    "essentiel": [
        _metered("api", {"code": "api_calls", "aggregation": "sum"}),
        _metered(
            "users",
            {"code": "active_users", "aggregation": "unique_count", "property_name": "user"},
        ),
    ],
    "pro": [_metered("storage", {"code": "storage_gb", "aggregation": "max"})],
}


def metered_catalog(folder: Path) -> Path:
    data = json.loads(CATALOG.read_text(encoding="utf-8"))
    for plan in data["plans"]:
        plan["usage"] = METERED.get(plan["code"], [])
    return write_json(folder / "metered.json", data)


@pytest.fixture
def loaded(capsys, tmp_path):
    """A database with the SaaS catalog, metered, and subscriptions S1 and S2 (test_cli's)."""
    db = tmp_path / "billing.db"
    load_database(capsys, tmp_path, db, catalog=metered_catalog(tmp_path))
    return db


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def stored(db):
    store = SQLiteStore(db, read_only=True)
    try:
        return store.usage_records(["S1", "S2"], before=LATEST_BEFORE)
    finally:
        store.close()


def test_a_csv_file_loaded_twice_adds_its_records_once(capsys, tmp_path, loaded):
    usage = write(tmp_path / "usage.csv", CSV)
    assert run(capsys, "usage", "load", usage, "--db", loaded) == (
        0,
        f"3 new usage records in {loaded} (0 already stored).\n",
        "",
    )
    before = database_content(loaded)
    assert run(capsys, "usage", "load", usage, "--db", loaded, "--locale", "fr_FR") == (
        0,
        f"0 nouveau relevé de consommation dans {loaded} (3 déjà enregistrés).\n",
        "",
    )
    assert database_content(loaded) == before
    assert stored(loaded) == {
        "S1": [
            record("evt_1", 1200, 2),
            record("evt_2", 1, 3, metric="active_users", user="u_42"),
        ],
        "S2": [record("evt_3", "2.5", 15, subscription="S2", metric="storage_gb")],
    }


def test_json_and_csv_files_of_the_same_records_agree(capsys, tmp_path, loaded):
    status, out, _ = run(capsys, "usage", "load", write_json(tmp_path / "u.json", USAGE),
                         "--db", loaded, "--locale", "fr_FR")  # fmt: skip
    french = f"2 nouveaux relevés de consommation dans {loaded} (0 déjà enregistré).\n"
    assert (status, out) == (0, french)
    status, out, _ = run(capsys, "usage", "load", write(tmp_path / "u.csv", CSV), "--db", loaded)
    assert (status, out) == (0, f"1 new usage record in {loaded} (2 already stored).\n")


def test_a_record_given_twice_in_a_file_counts_once(capsys, tmp_path, loaded):
    twice = write(tmp_path / "twice.csv", CSV + "S1,api_calls,1200.0,2026-03-02,evt_1,\n")
    status, out, _ = run(capsys, "usage", "load", twice, "--db", loaded)
    assert (status, out) == (0, f"3 new usage records in {loaded} (0 already stored).\n")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            HEADER + "S1,api_calls,-3,2026-03-02,evt_1,\nS1,api_calls,3,2026-02-30,evt_2,\n"
            "S1,api_calls,3\nS1,api_calls,1,2026-03-02,evt_3,\nS1,api_calls,2,2026-03-02,evt_3,\n",
            [
                "line 2: quantity: quantity='-3' must be >= 0",
                (
                    "line 3: used_on: '2026-02-30' is not a date (day is out of range for "
                    "month); expected YYYY-MM-DD"
                ),
                "line 4: 3 cells, the header has 6",
                (
                    "line 6: key='evt_3' of subscription 'S1' is also line 5, for another "
                    "record: a key names one record"
                ),
            ],
        ),
        (
            "subscription,metric,qty,used_on,key,key\n",
            [
                (
                    "line 1: 'qty' is not a column; expected one of key, metric, quantity, "
                    "subscription, used_on (or properties.NAME)"
                ),
                "line 1: 'key' is a column twice",
                "line 1: missing the column(s) quantity",
            ],
        ),
        (HEADER + "S1,api_calls,,2026-03-02,evt_1,\n", ["line 2: quantity: is missing"]),
        (
            HEADER + "S1,api_calls,1e400,2026-03-02,evt_1,\n",
            ["line 2: quantity: quantity='1e400' must be at most 10^12 in magnitude"],
        ),
        ("", ["an empty file; expected a header line subscription,metric,quantity,used_on,key"]),
    ],
    ids=["bad-records", "bad-header", "missing-cell", "huge", "empty"],
)
def test_a_csv_file_with_a_bad_record_adds_nothing_naming_each_line(
    capsys, tmp_path, loaded, text, expected
):
    before = database_content(loaded)
    status, out, err = run(capsys, "usage", "load", write(tmp_path / "bad.csv", text),
                           "--db", loaded)  # fmt: skip
    assert (status, out) == (2, "")
    assert err.splitlines() == [f"subbill: error: {tmp_path / 'bad.csv'}: {e}" for e in expected]
    assert database_content(loaded) == before


def test_a_json_record_names_its_path(capsys, tmp_path, loaded):
    bad = {"usage": [USAGE["usage"][0], {**USAGE["usage"][1], "quantity": 2.5, "kye": "x"}]}
    status, out, err = run(capsys, "usage", "load", write_json(tmp_path / "u.json", bad),
                           "--db", loaded)  # fmt: skip
    assert (status, out) == (2, "")
    assert err.splitlines() == [
        (
            f"subbill: error: {tmp_path / 'u.json'}: usage[1].quantity: quantity=2.5 is a "
            'float, which cannot hold an exact amount; write it as a string such as "2.5" (or '
            "pass a Decimal)"
        ),
        f"subbill: error: {tmp_path / 'u.json'}: usage[1].kye: unknown key, did you mean 'key'?",
    ]
    assert stored(loaded) == {"S1": [], "S2": []}


def test_a_file_of_many_bad_records_is_reported_in_a_few_lines(capsys, tmp_path, loaded):
    lines = "".join(f"S1,api_calls,-{n},2026-03-02,evt_{n},\n" for n in range(1, 1001))
    status, _, err = run(capsys, "usage", "load", write(tmp_path / "bad.csv", HEADER + lines),
                         "--db", loaded)  # fmt: skip
    assert status == 2
    found = err.splitlines()
    assert len(found) == cli.MAX_PROBLEMS + 1
    assert found[-1] == f"subbill: error: {tmp_path / 'bad.csv'}: and 980 more problem(s)"


def test_a_key_stored_for_another_record_refuses_the_file(capsys, tmp_path, loaded):
    assert run(capsys, "usage", "load", write(tmp_path / "u.csv", CSV), "--db", loaded)[0] == 0
    before = database_content(loaded)
    other = write(tmp_path / "other.csv", HEADER + "S1,api_calls,4,2026-03-05,new,\n"
                  "S1,api_calls,9,2026-03-02,evt_1,\n")  # fmt: skip
    line = assert_one_line_error(*run(capsys, "usage", "load", other, "--db", loaded), 1)
    assert line == (
        f"subbill: error: {other}: key='evt_1' of subscription 'S1' is stored already for "
        "another record (api_calls 1200 on 2026-03-02, given: api_calls 9 on 2026-03-02); a "
        "key names one record: nothing was added"
    )
    assert database_content(loaded) == before  # not even the new record before it


def test_records_of_a_subscription_not_stored_are_refused(capsys, tmp_path, loaded):
    before = database_content(loaded)
    typo = write(tmp_path / "typo.csv", CSV + "S9,api_calls,1,2026-03-02,evt_9,\n")
    line = assert_one_line_error(*run(capsys, "usage", "load", typo, "--db", loaded), 2)
    assert line == (
        f"subbill: error: {typo}: no subscription 'S9' in the database: load the subscriptions "
        "first ('subbill subscriptions load FILE'); nothing was added"
    )
    assert database_content(loaded) == before


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (HEADER + 'S1,"api_calls\n', "is not valid CSV: unexpected end of data"),
        (b"subscription\xff\n", "is not UTF-8 text"),
    ],
)
def test_a_file_that_is_not_csv_is_refused_on_one_line(capsys, tmp_path, loaded, text, expected):
    path = tmp_path / "bad.csv"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        write(path, text)
    line = assert_one_line_error(*run(capsys, "usage", "load", path, "--db", loaded), 2)
    assert line == f"subbill: error: {path} {expected}"


def test_loading_usage_needs_a_database(capsys, tmp_path):
    db = tmp_path / "none.db"
    line = assert_one_line_error(
        *run(capsys, "usage", "load", write(tmp_path / "u.csv", CSV), "--db", db), 1
    )
    assert line.startswith(f"subbill: error: no database at {db}")
    assert not db.exists()


def test_a_spreadsheet_byte_order_mark_is_not_part_of_the_first_column(capsys, tmp_path, loaded):
    path = tmp_path / "excel.csv"
    path.write_bytes(b"\xef\xbb\xbf" + CSV.replace("\n", "\r\n").encode("utf-8"))
    status, out, err = run(capsys, "usage", "load", path, "--db", loaded)
    assert (status, err) == (0, "")
    assert out == f"3 new usage records in {loaded} (0 already stored).\n"


def test_usage_loaded_by_the_cli_is_billed_by_bill_run_and_a_late_record_is_corrected(
    capsys, tmp_path
):
    # The whole path of issue 15: a catalog plan with graduated API calls, a subscription
    # loaded from a file, records loaded with `usage load`, `bill-run` on 1 April bills
    # March's 1,200 calls (1,000 × 0.015 + 200 × 0.020 = 19.00), a record of March that
    # arrives late is billed on the next run as a correction for March (200 × 0.020 = 4.00),
    # and loading the same file again, then billing again, changes nothing.
    from tests.test_usage_billing import CATALOG_DATA  # noqa: PLC0415

    db = tmp_path / "billing.db"
    catalog = write_json(tmp_path / "catalog.json", CATALOG_DATA)
    subscription = {"id": "S1", "customer": "ACME", "plan": "pro", "start": "2026-03-01"}
    load_database(
        capsys, tmp_path, db, catalog=catalog, subscriptions={"subscriptions": [subscription]}
    )
    march = write(
        tmp_path / "march.csv",
        "subscription,metric,quantity,used_on,key\n"
        "S1,api_calls,700,2026-03-02,a\n"
        "S1,api_calls,500,2026-03-30,b\n"
        "S1,api_calls,999,2026-04-01,c\n",  # April's: not billed on 1 April
    )
    assert run(capsys, "usage", "load", march, "--db", db)[0] == 0
    status, _, err = run(capsys, "bill-run", "--as-of", "2026-04-01", "--db", db)
    assert status == 0, err
    store = SQLiteStore(db, read_only=True)
    (first,) = [i for i in store.invoices() if i.issued_on == date(2026, 4, 1)]
    store.close()
    usage_lines = [
        (line.code, line.period, str(line.amount))
        for line in first.lines
        if line.kind is LineKind.USAGE
    ]
    assert usage_lines == [("api", Period(date(2026, 3, 1), date(2026, 4, 1)), "19.00 EUR")]

    late = write(
        tmp_path / "late.csv",
        "subscription,metric,quantity,used_on,key\nS1,api_calls,200,2026-03-31,d\n",
    )
    assert run(capsys, "usage", "load", late, "--db", db)[0] == 0
    status, _, err = run(capsys, "bill-run", "--as-of", "2026-04-02", "--db", db)
    assert status == 0, err
    store = SQLiteStore(db, read_only=True)
    corrections = [
        (line.kind, line.period, str(line.amount))
        for invoice in store.invoices()
        if invoice.issued_on == date(2026, 4, 2)
        for line in invoice.lines
    ]
    store.close()
    assert corrections == [
        (LineKind.USAGE_CORRECTION, Period(date(2026, 3, 1), date(2026, 4, 1)), "4.00 EUR")
    ]
    before = database_content(db)
    assert run(capsys, "usage", "load", late, "--db", db)[0] == 0  # nothing new
    status, out, _ = run(capsys, "bill-run", "--as-of", "2026-04-02", "--db", db)
    assert status == 0
    assert "0 invoices created" in out
    assert database_content(db) == before
