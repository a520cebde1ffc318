"""Every script in examples/ runs, and says what it should."""

import runpy
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).parent.parent / "examples").glob("*.py"))


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.name)
def test_example_runs(script, capsys, monkeypatch):
    monkeypatch.setattr(sys, "argv", [str(script)])
    runpy.run_path(str(script), run_name="__main__")
    out = capsys.readouterr().out
    assert out.strip(), f"{script.name} printed nothing"


def test_tour_prints_the_french_walkthrough(capsys, monkeypatch):
    script = next(p for p in EXAMPLES if p.name == "tour.py")
    monkeypatch.setattr(sys, "argv", [str(script)])
    runpy.run_path(str(script), run_name="__main__")
    out = capsys.readouterr().out
    assert "1\u202f234,56\xa0€" in out
    assert "28 février 2026" in out
    assert "31 mars 2026" in out
    assert "12/31" in out
    assert "33,34\xa0€" in out


def test_the_readme_example_runs_and_prints_what_its_comments_say(capsys):
    import re  # noqa: PLC0415

    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    code = re.search(r"```python\n(.*?)```", readme, re.DOTALL).group(1)
    exec(compile(code, "README.md", "exec"), {})  # noqa: S102
    out = capsys.readouterr().out.replace("\xa0", " ").replace("\u202f", " ")
    assert "3/7 21.43 EUR" in out
    assert "1 50.00 EUR" in out
    assert "12/28 × 50,00 € = 21,43 €" in out
    assert "100,00 €" in out
