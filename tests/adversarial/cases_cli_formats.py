"""Bad input files and arguments of ``subbill review``, ``subbill renew`` and ``ledger load``.

Every case copies one database built once through the command line (the SaaS catalog, a
subscription, two licence accounts, a partner's and a reseller's pools), runs the command
as ``subbill`` does but lets its typed error out (after checking that ``subbill`` would exit
with a non-zero status), and checks afterwards that the database and the files beside it did
not change: nothing is half-applied.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from subbill import cli
from subbill.decisions import RefusedError
from tests.adversarial import Case
from tests.builders import ledger_fields
from tests.stores import database_content

__all__ = ["CASES"]

EXAMPLES = Path(__file__).parent.parent.parent / "examples"
_ROOT = tempfile.TemporaryDirectory(prefix="subbill-adversarial-cli-formats-")
_folders = iter(range(1_000_000))

CommandError: type[Exception] = cli._CommandError  # the command line's own typed error

SUBSCRIPTIONS = {
    "subscriptions": [
        {"id": "S1", "customer": "Boulangerie Martin", "plan": "essentiel", "start": "2026-03-01"}
    ]
}
ACCOUNTS = {
    "accounts": [
        {
            "customer": "Boulangerie Martin",
            "product": "TBox",
            "seats": 12,
            "start": "2025-06-01",
            "years": 1,
            "reseller": "Revendeur Ouest",
        },
        {
            "customer": "Cabinet Leroy",
            "product": "TSend",
            "seats": 4,
            "start": "2025-03-01",
            "years": 1,
        },
    ]
}
GRANT, TRANSFER = ledger_fields()["ledger"]
USAGE = {"subscription": "S1", "resources": {"clients": 12}, "modules": {}}


def _quiet_main(argv: list[str]) -> None:
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        status = cli.main(argv)
    assert status == 0, argv


def _template() -> Path:
    folder = Path(_ROOT.name) / "template"
    if folder.exists():
        return folder / "billing.db"
    folder.mkdir()
    db = folder / "billing.db"
    files = {
        "subscriptions.json": SUBSCRIPTIONS,
        "accounts.json": ACCOUNTS,
        "ledger.json": {"ledger": [GRANT, TRANSFER]},
    }
    for name, data in files.items():
        (folder / name).write_text(json.dumps(data), encoding="utf-8")
    for argv in (
        ["catalog", "load", str(EXAMPLES / "catalogue_saas.json")],
        ["subscriptions", "load", str(folder / "subscriptions.json")],
        ["accounts", "load", str(folder / "accounts.json")],
        ["ledger", "load", str(folder / "ledger.json")],
    ):
        _quiet_main([*argv, "--db", str(db)])
    return db


def _fingerprint(folder: Path) -> Any:
    """Every row of the database and every other file of the folder."""
    rows = database_content(folder / "billing.db")
    files = {
        p.name: p.read_bytes()
        for p in sorted(folder.iterdir())
        if p.is_file() and not p.name.startswith("billing.db")
    }
    return rows, files


def _cli(argv: list[str]) -> None:
    """Run ``subbill argv`` and let its error out; it must fail with a non-zero status."""
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        try:
            status = cli._execute(cli._parse(argv))
        except BaseException as error:
            if cli._exit_status(error) == 0:
                raise AssertionError(f"subbill {argv} failed with exit status 0") from error
            raise
    raise AssertionError(f"subbill {argv} exited with {status}: it must fail")


def case(
    case_id: str,
    error: type[BaseException],
    argv: Callable[[Path], list[str]],
    *,
    files: dict[str, object] | None = None,
    prepare: Callable[[Path], None] | None = None,
) -> Case:
    """Run ``subbill argv(folder)`` on a fresh copy of the template, with ``files`` written."""
    folders: list[Path] = []
    before: list[Any] = []

    def call() -> object:
        folder = Path(_ROOT.name) / f"case{next(_folders)}"
        folder.mkdir()
        shutil.copy(_template(), folder / "billing.db")
        for name, data in (files or {}).items():
            text = data if isinstance(data, str) else json.dumps(data)
            (folder / name).write_text(text, encoding="utf-8")
        if prepare is not None:
            prepare(folder)
        folders.append(folder)
        before.append(_fingerprint(folder))
        return _cli([*argv(folder), "--db", str(folder / "billing.db")])

    def unchanged() -> bool:
        return bool(folders) and _fingerprint(folders[-1]) == before[-1]

    return Case(f"cli-formats-{case_id}", call, error, unchanged)


def _review(usage: object, *extra: str) -> tuple[Callable[[Path], list[str]], dict[str, object]]:
    def argv(folder: Path) -> list[str]:
        return ["review", "S1", "--usage", str(folder / "usage.json"), *extra]

    return argv, {"usage.json": usage}


def _review_case(case_id: str, usage: object, *extra: str) -> Case:
    argv, files = _review(usage, *extra)
    return case(case_id, CommandError, argv, files=files)


def _renew(*extra: str) -> Callable[[Path], list[str]]:
    return lambda _folder: ["renew", *extra]


def _renew_once(folder: Path) -> None:
    argv = ["renew", "Boulangerie Martin", "--on", "2026-04-01", "--years", "2"]
    _quiet_main([*argv, "--db", str(folder / "billing.db")])


def _ledger(*entries: object) -> tuple[Callable[[Path], list[str]], dict[str, object]]:
    return (
        lambda folder: ["ledger", "load", str(folder / "ledger.json")],
        {"ledger.json": {"ledger": list(entries)}},
    )


def _ledger_case(case_id: str, *entries: object) -> Case:
    argv, files = _ledger(*entries)
    return case(case_id, CommandError, argv, files=files)


CASES: list[Case] = [
    # -- review --usage: the usage file --------------------------------------------------------
    _review_case("usage-unknown-key", {**USAGE, "month": "2026-03"}, "--as-of", "2026-04-02"),
    _review_case(
        "usage-resource-typo", {**USAGE, "resources": {"clietns": 12}}, "--as-of", "2026-04-02"
    ),
    _review_case("usage-module-typo", {**USAGE, "modules": {"crn": 3}}, "--as-of", "2026-04-02"),
    _review_case(
        "usage-negative-count", {**USAGE, "resources": {"clients": -1}}, "--as-of", "2026-04-02"
    ),
    _review_case(
        "usage-float-count", {**USAGE, "resources": {"clients": 12.5}}, "--as-of", "2026-04-02"
    ),
    _review_case("usage-another-subscription", {**USAGE, "subscription": "S2"}),
    _review_case("usage-missing-modules", {"resources": {}}),
    _review_case("usage-nan", '{"resources": {"clients": NaN}, "modules": {}}'),
    _review_case(
        "usage-card-security-code",
        {**USAGE, "payment_methods": [{"id": "pm_1", "brand": "Visa", "cvv": "123"}]},
    ),
    _review_case(
        "usage-card-expiry-month-13",
        {
            **USAGE,
            "payment_methods": [
                {"id": "pm_1", "brand": "Visa", "last4": "4242", "exp_month": 13, "exp_year": 2027}
            ],
        },
    ),
    case(
        "review-unknown-subscription",
        CommandError,
        lambda folder: ["review", "S9", "--usage", str(folder / "usage.json")],
        files={"usage.json": USAGE},
    ),
    _review_case("review-before-the-start", USAGE, "--as-of", "2026-02-28"),
    # -- renew --------------------------------------------------------------------------------
    case(
        "renew-twice",
        CommandError,
        _renew("Boulangerie Martin", "--on", "2026-04-01", "--years", "2"),
        prepare=_renew_once,
    ),
    case(
        "renew-a-new-term-the-next-day",
        CommandError,
        _renew("Boulangerie Martin", "--on", "2026-06-02"),
        prepare=_renew_once,
    ),
    case(
        "renew-beyond-the-pool",
        RefusedError,
        _renew("Boulangerie Martin", "--on", "2026-04-01", "--years", "20"),
    ),
    case("renew-without-a-pool", CommandError, _renew("Cabinet Leroy", "--on", "2026-04-01")),
    case("renew-unknown-customer", CommandError, _renew("ACME", "--on", "2026-04-01")),
    case("renew-not-due", CommandError, _renew("Boulangerie Martin", "--on", "2025-07-01")),
    case("renew-zero-years", CommandError, _renew("Boulangerie Martin", "--years", "0")),
    case(
        "renew-unicode-digits",
        CommandError,
        _renew("Boulangerie Martin", "--seats", "\uff11\uff12"),
    ),
    # -- ledger load and accounts load around a renewal ------------------------------------------
    _ledger_case("ledger-beyond-the-pool", {**TRANSFER, "licence_years": 900}),
    _ledger_case("ledger-renewal-kind", {**TRANSFER, "kind": "renewal", "reference": "R-1"}),
    _ledger_case("ledger-grant-with-a-source", {**GRANT, "source": "Editeur"}),
    _ledger_case("ledger-transfer-without-a-source", {**TRANSFER, "source": None}),
    _ledger_case(
        "ledger-fraction-of-a-licence", {**GRANT, "licence_years": 1.5, "reference": "BC-2"}
    ),
    _ledger_case(
        "ledger-twice-in-one-file", dict(GRANT, reference="BC-9"), dict(GRANT, reference="BC-9")
    ),
    case(
        "accounts-load-changes-a-renewed-term",
        CommandError,
        lambda folder: ["accounts", "load", str(folder / "accounts.json")],
        files={"accounts.json": {"accounts": [{**ACCOUNTS["accounts"][0], "seats": 13}]}},
        prepare=_renew_once,
    ),
]
