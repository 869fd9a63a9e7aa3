"""Every command's ``--help`` explains every option and shows at least one example, and
every example names a real command and options that command accepts."""

from __future__ import annotations

import shlex

import click
import pytest

from sim.cli import main


def _commands(cmd: click.Command, path: tuple[str, ...]) -> list[tuple[tuple[str, ...], click.Command]]:
    if not isinstance(cmd, click.Group):
        return [(path, cmd)]
    ctx = click.Context(cmd, info_name=path[-1])
    return [leaf for name in cmd.list_commands(ctx)
            for leaf in _commands(cmd.get_command(ctx, name), (*path, name))]


COMMANDS = _commands(main, ("hansim",))


@pytest.mark.parametrize(("path", "cmd"), COMMANDS, ids=[" ".join(p[1:]) for p, _ in COMMANDS])
def test_every_option_described_and_an_example_that_parses(path: tuple[str, ...], cmd: click.Command) -> None:
    undescribed = [p.opts[0] for p in cmd.params if isinstance(p, click.Option) and not (p.help or "").strip()]
    assert not undescribed, f"{' '.join(path)}: options without help: {undescribed}"
    epilog = cmd.epilog or ""
    examples = [line.strip() for line in epilog.splitlines() if line.strip().startswith("hansim ")]
    assert examples, f"{' '.join(path)}: no example in its --help"
    known = {opt for p in cmd.params for opt in (*p.opts, *p.secondary_opts)} | {"-h", "--help"}
    for example in examples:
        words = shlex.split(example)
        assert tuple(words[:len(path)]) == path, example
        used = {w.split("=")[0] for w in words[len(path):] if w.startswith("-")}
        assert used <= known, f"{example}: unknown options {used - known}"
