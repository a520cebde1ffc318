"""``docs/guarantees.md`` names the tests that prove each promise: they must exist."""

import ast
import fnmatch
import re
from pathlib import Path

ROOT = Path(__file__).parent.parent
PAGE = ROOT / "docs" / "guarantees.md"


def _test_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}


def test_every_test_the_guarantees_page_names_exists():
    text = PAGE.read_text(encoding="utf-8")
    references = re.findall(r"(tests/[\w/]+\.py)::([\w*]+)", text)
    assert len(references) >= 15
    for file, name in references:
        path = ROOT / file
        assert path.exists(), file
        names = _test_names(path)
        assert fnmatch.filter(names, name), f"{file}::{name} does not exist"


def test_every_test_file_the_guarantees_page_names_exists():
    text = PAGE.read_text(encoding="utf-8")
    for file in set(re.findall(r"`(tests/[\w/]+\.py)`", text)):
        assert (ROOT / file).exists(), file
