"""The stored documents of ``subbill.storage.codec``: what a faster codec must keep."""

import hashlib

from benchmarks.workloads import BILLING_AS_OF, mix_inputs

from subbill import bill_run
from subbill.invoices import Invoice
from subbill.storage.codec import dumps, loads

#: SHA-256 of the documents (``codec.dumps``, one a line) of the invoices of the mix bench's
#: first 600 subscriptions, as format 4 wrote them before the codec was made faster.
MIX_DOCUMENTS_SHA256 = "e6b3bb7956daf2a49b7b07c10c70ae362c7b4c1ea877670384d7c1d7bd43860a"


def test_invoice_documents_stay_byte_identical_through_codec_speedups():
    # Credits, discounts and taxed lines of the mix bench: the stored text never changes
    # with the way the codec builds it, and reads back as the invoice.
    digest = hashlib.sha256()
    for result in bill_run(mix_inputs(600), as_of=BILLING_AS_OF):
        assert result.invoice is not None
        text = dumps(result.invoice)
        digest.update(text.encode() + b"\n")
        assert loads(text, Invoice) == result.invoice
    assert digest.hexdigest() == MIX_DOCUMENTS_SHA256
