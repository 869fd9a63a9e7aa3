"""No install code or key survives redaction, whatever a message puts around or inside it."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from han.redact import HIDDEN, redact

CODES = st.binary(min_size=6, max_size=16).map(lambda b: b.hex().upper())
SEPARATORS = st.sampled_from(["", "'", '"', " ", "-", ":", "\\'", "\\x27", "', '", "&apos;"])


@st.composite
def printed(draw) -> tuple[str, str]:
    """A code as a message might print it: quoted, escaped, grouped, in any case."""
    code = draw(CODES)
    digits = list(code.lower() if draw(st.booleans()) else code)
    out = ""
    for i, digit in enumerate(digits):
        out += digit
        if i % 2 and draw(st.booleans()):
            out += draw(SEPARATORS)
    quote = draw(st.sampled_from(["'", '"', "", "`"]))
    return code, f"{draw(st.text(max_size=20))}invalid value {quote}{out}{quote} for xs:hexBinary"


@settings(max_examples=150, deadline=None)
@given(printed())
def test_a_printed_code_is_hidden(case: tuple[str, str]) -> None:
    code, message = case
    hidden = redact(message, [code])
    assert HIDDEN in hidden
    bare = re.sub(r"[^0-9a-f]", "", hidden.lower())
    assert code.lower()[:8] not in bare or code.lower()[:8] in re.sub(r"[^0-9a-f]", "", message.split("invalid")[0].lower())


def test_raw_key_bytes_and_text_forms() -> None:
    key = bytes(range(16))
    assert redact(f"link key {key.hex()} rejected", [key]) == f"link key {HIDDEN} rejected"
    assert redact("code '30313233343536373839' bad", ["30-31-32-33-34-35-36-37-38-39"]) == f"code '{HIDDEN}' bad"
    assert redact("nothing secret here: 1234", ["30313233343536373839"]) == "nothing secret here: 1234"
