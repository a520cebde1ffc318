"""``subbill quote`` shows a quote's usage lines (issue 15): what they bill, in arrears.

The quote of ``tests/test_usage_lines.py``: a setup fee of 200.00 €, a platform at 49.00 € a
month, API calls at 0.015 € up to 1 000 then 0.020 € with a 10.00 € minimum commitment,
TVA 20 %, paid on 1 March 2026.
"""

from __future__ import annotations

import copy

from tests.test_cli import run, write_json
from tests.test_usage_lines import QUOTE_DATA


def the_quote(tmp_path, **usage: object):
    data = copy.deepcopy(QUOTE_DATA)
    data["lines"][2]["usage"].update(usage)
    return write_json(tmp_path / "quote.json", data)


def plain(text: str) -> str:
    return text.replace("\u202f", " ").replace("\xa0", " ")


def test_quote_shows_a_usage_line_billed_in_arrears_in_french(capsys, tmp_path):
    quote = the_quote(tmp_path, minimum="10.00")
    argv = ("quote", quote, "--paid-on", "2026-03-01", "--horizon", "2026-05-01")
    status, out, err = run(capsys, *argv, "--locale", "fr_FR")
    assert status == 0, err
    out = plain(out)
    usage = out.split("Facturé à l'usage, à terme échu\n")[1].split("\n\n")[0]
    assert usage.splitlines() == [
        "  Appels API                       mensuel, à la fin de chaque période",
        (
            "      Par paliers : jusqu'à 1 000 : 0,015 € l'unité ; au-delà : 0,020 € l'unité ; "
            "engagement minimum de 10,00 € par période"
        ),
    ]
    # Nothing of it is due today (the platform and the setup fee: 249.00 € + TVA).
    today = out.split("À payer aujourd'hui\n")[1].split("\n\n")[0]
    assert "Appels API" not in today
    assert "  Total TTC                              298,80 €" in today
    # Each later payment counts it at zero usage: its minimum commitment, 10.00 € HT.
    upcoming = out.split("Paiements à venir\n")[1]
    assert upcoming.splitlines() == [
        (
            "  1 avril 2026                70,80 €   (Plateforme 49,00 €, Appels API (sans usage) "
            "10,00 € HT)"
        ),
        (
            "  1 mai 2026                  70,80 €   (Plateforme 49,00 €, Appels API (sans usage) "
            "10,00 € HT)"
        ),
        "  L'usage mesuré s'y ajoute, facturé à la fin de chaque période.",
    ]


def test_quote_shows_a_usage_line_in_english_without_a_minimum(capsys, tmp_path):
    """Without a minimum commitment, nothing of the usage line shows in later payments."""
    quote = the_quote(tmp_path, transformation={"divide_by": 1000, "rounding": "up"})
    argv = ("quote", quote, "--paid-on", "2026-03-01", "--horizon", "2026-04-01")
    status, out, err = run(capsys, *argv)
    assert status == 0, err
    usage = out.split("Billed on usage, in arrears\n")[1].split("\n\n")[0]
    assert usage.splitlines() == [
        "  Appels API                       monthly, at the end of each period",
        (
            "      Graduated: up to 1,000: €0.015 each; beyond: €0.020 each; "
            "measured quantity ÷ 1000, rounded up"
        ),
    ]
    upcoming = out.split("Upcoming payments\n")[1]
    assert upcoming.splitlines() == [
        "  April 1, 2026                €58.80   (Plateforme €49.00 excl. tax)",
        "  Usage as measured comes on top, billed at the end of each period.",
    ]
