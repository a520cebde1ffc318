"""Issue 13, fourth pass: a stamped subscription of the usual shape read by one expression.

A stamped row whose data is one plan span and the usual fields (``codec._ONE_PLAN``) is read
where its strings stand, without the JSON decoder; any other is parsed. The two readers must
agree, field for field and refusal for refusal: over generated subscriptions, rows edited
and stamped again, and near misses of the text itself (a character inserted, removed or
replaced, then stamped again).
"""

from datetime import date, timedelta

import attrs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from subbill.storage import codec
from subbill.storage.codec import loads, read_subscription
from subbill.subscriptions import Subscription
from tests.test_codec_rows import same_fields
from tests.test_persisted_run_row_reads import _varied, every_stored_shape, varied_subscriptions
from tests.test_trusted_read_refusals import _outcome, _same, _stamped, edited_rows


def _parsed(text):
    """The read without the expression: the data parsed by the JSON decoder."""
    data = codec._stamped_data(text)
    if data is not None:
        trusted = codec._trusted_subscription(data)
        if trusted is not None:
            return trusted
    return loads(text, Subscription, table="subscriptions", key="S")


def _agree(text):
    got = _outcome(lambda: read_subscription(text, table="subscriptions", key="S"))
    _same(got, _outcome(lambda: _parsed(text)))


def _restamped(data_text):
    return f"{codec._STAMP_HEAD}{data_text}{codec._STAMP_MID}{codec._stamp(data_text)}{codec._STAMP_END}"  # noqa: E501


def _data_text(text):
    return text[len(codec._STAMP_HEAD) : len(text) - codec._STAMP_TAIL]


def _takes(text):
    """True when the expression reads the row (not the JSON decoder)."""
    return codec._ONE_PLAN(text, len(codec._STAMP_HEAD), len(text) - codec._STAMP_TAIL) is not None


def test_the_usual_rows_are_read_by_the_expression():
    # (A cancellation by cancel() adds a change to the history, read by the decoder.)
    cancelled = _varied(cancelled_on=date(2024, 8, 3), cancel_at=date(2024, 9, 1))
    for sub in (_varied(), _varied(payment_method="pm_1", quantity="2.5"), cancelled):
        text = codec.subscription_text(sub)
        assert _takes(text), text
        same_fields(read_subscription(text, table="subscriptions", key="S7"), sub)
    assert cancelled.cancelled_on == date(2024, 8, 3)


@st.composite
def one_plan_subscriptions(draw):
    """A varied subscription with any of the optional fields the expression reads."""
    sub = draw(varied_subscriptions())
    span, fields = sub.plans[0], {}
    if draw(st.booleans()):
        span = attrs.evolve(span, quantity=draw(st.sampled_from(["1", "4", "0.5", "120"])))
    if draw(st.booleans()):
        span = attrs.evolve(span, end=sub.start + timedelta(days=draw(st.integers(1, 400))))
    if draw(st.booleans()):
        fields["end"] = sub.start + timedelta(days=draw(st.integers(1, 400)))
    if draw(st.booleans()):
        fields["payment_method"] = draw(st.sampled_from(["pm_1", "Carte Visa ••1234"]))
    if draw(st.booleans()):  # both days of a cancellation, without its history
        made = sub.start + timedelta(days=draw(st.integers(-30, 30)))
        fields["cancelled_on"] = made
        fields["cancel_at"] = max(made, sub.start) + timedelta(days=draw(st.integers(0, 40)))
    return attrs.evolve(sub, plans=(span,), **fields)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(one_plan_subscriptions(), every_stored_shape()))
def test_the_expression_reads_what_the_decoder_reads_for_stored_subscriptions(sub):
    text = codec.subscription_text(sub)
    _agree(text)
    if _takes(text):
        same_fields(read_subscription(text, table="subscriptions", key="S"), sub)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(edited_rows())
def test_the_expression_reads_what_the_decoder_reads_after_any_edit(data):
    _agree(_stamped(data))


_NEAR = ['"', "\\", ",", ":", "{", "}", "[", "]", " ", "0", "1", "-", "E", "x", "\x00", "\u00e9"]


@st.composite
def near_misses(draw):
    """The data text of a usual row with a character inserted, removed or replaced."""
    sub = draw(one_plan_subscriptions())
    data_text = _data_text(codec.subscription_text(sub))
    for _ in range(draw(st.integers(1, 2))):
        at = draw(st.integers(0, len(data_text) - 1))
        edit = draw(st.sampled_from(["insert", "remove", "replace"]))
        char = draw(st.sampled_from(_NEAR) | st.characters(max_codepoint=0x7F))
        if edit == "insert":
            data_text = data_text[:at] + char + data_text[at:]
        elif edit == "remove":
            data_text = data_text[:at] + data_text[at + 1 :]
        else:
            data_text = data_text[:at] + char + data_text[at + 1 :]
    return data_text


@settings(max_examples=600, suppress_health_check=[HealthCheck.too_slow])
@given(near_misses())
def test_the_expression_reads_what_the_decoder_reads_for_near_misses(data_text):
    _agree(_restamped(data_text))


def test_a_text_the_decoder_refuses_is_never_read_by_the_expression():
    # Raw control characters and escapes are the decoder's: the expression leaves them.
    text = codec.subscription_text(_varied())
    for customer in ('"C\x017"', '"C\\u00017"', '"C\\"7"'):
        edited = _restamped(_data_text(text).replace('"C7"', customer))
        assert not _takes(edited)
        _agree(edited)
