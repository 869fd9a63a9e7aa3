"""Damaged requests never crash the DCC: a DUIS response, or NotDUIS for non-DUIS bytes.

Hypothesis cuts, overwrites and inserts bytes in the DCC's own templates, with and
without the schema; every response written must still validate against the XSD.
"""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from duis_support import assert_valid, templates, xsd
from sim.dcc.frontdoor import Dcc
from sim.dcc.site_file import default_premises
from sim.duis.request import NotDUIS

NAMES = sorted(p.name for p in templates().iterdir())
PREMISES = default_premises()


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(NAMES), data=st.data(), validate=st.booleans())
def test_damaged_templates(name: str, data, validate: bool) -> None:
    raw = bytearray((templates() / name).read_bytes())
    for _ in range(data.draw(st.integers(1, 3))):
        at = data.draw(st.integers(0, len(raw) - 1))
        action = data.draw(st.sampled_from(["cut", "overwrite", "insert"]))
        junk = data.draw(st.binary(min_size=1, max_size=4))
        if action == "cut":
            del raw[at:at + len(junk)]
        elif action == "overwrite":
            raw[at:at + len(junk)] = junk
        else:
            raw[at:at] = junk
    dcc = Dcc(default_premises(), xsd() if validate else None)
    try:
        outcome = dcc.submit(bytes(raw))
    except NotDUIS:
        return
    if validate:
        assert_valid(outcome)
