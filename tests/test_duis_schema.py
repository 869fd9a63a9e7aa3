"""Finding the DUIS XSD and what its errors look like to a user."""

from pathlib import Path

import pytest

from duis_support import schema_path, templates, xsd
from sim.duis import schema as duis_schema


def test_explicit_path_then_env_then_shared(tmp_path: Path, monkeypatch) -> None:
    real = schema_path()
    assert duis_schema.locate(real.parent) == real  # a folder means the XSD inside it
    monkeypatch.setenv(duis_schema.ENV, str(real))
    assert duis_schema.locate() == real
    with pytest.raises(duis_schema.SchemaNotFound, match="validation is off"):
        duis_schema.locate(tmp_path)
    monkeypatch.setenv(duis_schema.ENV, str(tmp_path / "nowhere.xsd"))
    with pytest.raises(duis_schema.SchemaNotFound, match="HANSIM_DUIS_XSD"):
        duis_schema.locate()


def test_schema_is_loaded_once() -> None:
    assert duis_schema.load(schema_path()) is xsd()


def test_problems_carry_line_numbers() -> None:
    data = b"""<?xml version="1.0"?>
<sr:Request xmlns:sr="http://www.dccinterface.co.uk/ServiceUserGateway" schemaVersion="5.4">
  <sr:Header>
    <sr:RequestID>not-an-id</sr:RequestID>
  </sr:Header>
</sr:Request>
"""
    problems = duis_schema.check_bytes(xsd(), data)
    assert problems and problems[0].line == 4
    assert "RequestID" in problems[0].reason
    assert duis_schema.check_bytes(xsd(), b"<a>\n<b></a>") == [
        duis_schema.Problem(2, "not well-formed XML: mismatched tag")]


def test_install_codes_are_never_repeated_in_errors() -> None:
    data = (templates() / "CCS01_8.11_SUCCESS_REQUEST_DUIS.XML").read_bytes().replace(b"30313233343536373839414243444546",
                                   b"3031323334353637383941424344454Z")
    (problem,) = duis_schema.check_bytes(xsd(), data)
    assert problem.line == 15
    assert problem.reason.endswith("InstallCode: invalid value '<hidden>' for xs:hexBinary")
    assert "303132" not in str(problem)


LEAKY_CODES = ["3031323334353637'38394142434445", '30313233"3435363738394142434445', "30-31-32-33-34-35-36-37-38-39",
               "30 31 32 33 34 35 36 37 38 39 41", "30:31:32:33:34:35:36:37:38:39:41:42", "3031\\32333435363738394142",
               "&apos;30313233343536373839414243444546&apos;", "0x30313233343536373839414243444546",
               "<![CDATA[3031323334353637'3839]]>"]


@pytest.mark.parametrize("code", LEAKY_CODES)
def test_no_install_code_leaks_whatever_surrounds_it(code: str, tmp_path) -> None:
    from click.testing import CliRunner

    from sim.cli import main

    data = (templates() / "CCS01_8.11_SUCCESS_REQUEST_DUIS.XML").read_bytes().replace(
        b"30313233343536373839414243444546", code.encode())
    request = tmp_path / "r.xml"
    request.write_bytes(data)
    result = CliRunner().invoke(main, ["duis", "validate", "--schema", str(schema_path()), str(request)])
    assert result.exit_code == 1 and "InstallCode" in result.output
    run = CliRunner().invoke(main, ["duis", "run", "--schema", str(schema_path()), str(request),
                                    "--out", str(tmp_path / "out")])
    for text in (result.output, run.output):
        assert "Traceback" not in text
        for digits in ("30313233", "31323334", "35363738", "36 37 38", "36-37-38", "36:37:38"):
            assert digits not in text, text


def test_a_file_with_thousands_of_errors_reports_a_bounded_list() -> None:
    """Hostile files cannot print megabytes: the first MAX_PROBLEMS violations, then one line."""
    data = (templates() / "8.2_READ_INVENTORY_REQUEST_DUIS.XML").read_bytes()
    flooded = data.replace(b"</sr:Header>", b"</sr:Header>" + b"<x/>" * 3000, 1)
    found = duis_schema.check_bytes(xsd(), flooded)
    assert len(found) == duis_schema.MAX_PROBLEMS + 1
    assert str(found[-1]) == f"stopped after {duis_schema.MAX_PROBLEMS} problems; there may be more"


def test_an_element_crowded_with_attributes_is_refused_before_the_schema_check() -> None:
    """xmlschema's time grows with the square of one element's attributes (16,000 took 49 s):
    such an element is refused unchecked, naming it and its line."""
    data = (templates() / "8.2_READ_INVENTORY_REQUEST_DUIS.XML").read_bytes()
    crowded = data.replace(b"<sr:Request", b"<sr:Request " + b" ".join(b'a%d="x"' % i for i in range(16_000)), 1)
    [problem] = duis_schema.check_bytes(xsd(), crowded)
    assert problem.reason.startswith("Request: 16001 attributes") and problem.line is not None
    assert len(duis_schema.check_bytes(xsd(), data.replace(b"<sr:Request", b'<sr:Request a1="x"', 1))) == 1


def test_a_long_bad_value_is_quoted_cut_and_the_request_not_called_srv_question_mark() -> None:
    """Issue 19: an 11.1 whose firmware image is not base64 printed the whole image and
    "SRV ?"; the value is cut and the line says the request could not be read."""
    import re

    from sim.dcc.frontdoor import Dcc
    from sim.dcc.site_file import default_premises
    request = next(templates().glob("11.1_*")).read_bytes()
    bad = re.sub(rb"(<sr:FirmwareImage>)[^<]{8}", rb"\g<1>!!!*;^%$", request, count=1)
    (problem,) = duis_schema.check_bytes(xsd(), bad)
    assert re.search(r"invalid value '!!!\*;\^%\$\S{52}\.\.\.' \(\d+ characters\) for xs:base64Binary",
                     problem.reason), problem
    summary = Dcc(default_premises(), xsd()).submit(bad).summary()
    assert summary.startswith("not read as a request: E100 refused") and len(summary) < 300, summary
