"""Decisions: ``Allowed | Refused(code, facts)``, matched on by callers and worded by l10n."""

import pytest

from subbill.decisions import Allowed, Refused, refusal
from subbill.errors import InvalidArgumentError, InvalidTypeError


def test_a_refusal_has_a_code_of_one_line_of_text():
    # The review: Refused(code="") was accepted; l10n keys its words by that code.
    with pytest.raises(InvalidArgumentError, match=r"^code='' must be a non-empty str$"):
        Refused(code="")
    with pytest.raises(InvalidArgumentError, match=r"^code='in_use\\n' holds U\+000A"):
        refusal("in_use\n", method="visa")
    with pytest.raises(InvalidTypeError, match=r"^code=None must be a non-empty str$"):
        Refused(code=None)
    refused = refusal("in_use", method="visa")
    assert (refused.code, refused.fact("method"), bool(refused)) == ("in_use", "visa", False)
    assert bool(Allowed())
