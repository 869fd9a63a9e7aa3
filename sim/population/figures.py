"""The figures in a backlog ``summary.json``, walked as it is: whatever the model reports
(a new breakdown, a new total) is found without a change here.

An estimate is a mapping with ``mean``, ``lo`` and ``hi`` (the 95% interval); a figure
given both ``modelled`` and ``gb`` is read at GB scale, as the terminal prints it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

ESTIMATE = frozenset({"mean", "lo", "hi"})


def walk(tree: object, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], object]]:
    """(path, leaf) for every figure: an estimate mapping, or a plain value."""
    if isinstance(tree, Mapping) and ESTIMATE <= set(tree):
        yield path, tree
    elif isinstance(tree, Mapping) and "gb" in tree and "modelled" in tree:
        yield from walk(tree["gb"], (*path, "GB"))
    elif isinstance(tree, Mapping):
        for key, value in tree.items():
            yield from walk(value, (*path, str(key)))
    elif isinstance(tree, list) and tree and all(isinstance(v, Mapping) for v in tree):
        for n, value in enumerate(tree):
            yield from walk(value, (*path, str(n)))
    else:
        yield path, tree


def policy_figures(result: Mapping) -> Iterator[tuple[tuple[str, ...], object]]:
    """One regime's figures (its parameters, under ``policy``, are not figures)."""
    return walk({k: v for k, v in result.items() if k != "policy"})


def label(path: tuple[str, ...]) -> str:
    """``steady backlog / total / GB``."""
    return " / ".join(p.replace("_", " ") for p in path)
