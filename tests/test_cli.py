"""The ``hansim`` group: every command module is found, summarised and has working help."""

import pytest
from click.testing import CliRunner

from sim.cli import main

COMMANDS = main.list_commands(None)


def test_top_level_help_lists_every_command_with_a_summary() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for name in COMMANDS:
        line = next(row for row in result.output.splitlines() if row.strip().startswith(name))
        assert len(line.split(name, 1)[1].strip()) > 10, name


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_has_help(name: str) -> None:
    result = CliRunner().invoke(main, [name, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage: " in result.output


def test_unknown_command_is_one_clear_error() -> None:
    result = CliRunner().invoke(main, ["no-such-command"])
    assert result.exit_code == 2 and "No such command" in result.output


@pytest.mark.parametrize("args", [["backlog", "--sites", "-5"], ["installcode", "new", "--length", "7"],
                                  ["han", "join", "--install-code", "generate", "--window", "x",
                                   "--pcap", "j.pcap"]])
def test_a_bad_value_is_bad_input_exit_1(args: list[str]) -> None:
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1, result.output
    assert result.output.count("Error:") == 1 and "Traceback" not in result.output
