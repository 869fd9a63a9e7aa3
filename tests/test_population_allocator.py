"""A population process keeps the memory it freed: the kernel's own page-fault counter
says whether a freed array's pages come back without being faulted in again."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
SIZE = 64 * 2**20  # larger than any block glibc would serve from its heap by default
REALLOCATE = f"""
import resource, sys
import numpy as np
sys.path.insert(0, {str(ROOT)!r})
if sys.argv[1] != "default":
    from sim.population.allocator import keep_freed_memory
    assert keep_freed_memory() == (sys.argv[1] == "keep")
np.ones({SIZE}, np.uint8)  # allocated, written and freed
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
np.ones({SIZE}, np.uint8)
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def faults_reallocating(mode: str, opt_out: str = "") -> int:
    env = {**os.environ, "HANSIM_KEEP_FREED_MEMORY": opt_out}
    run = subprocess.run([sys.executable, "-c", REALLOCATE, mode], capture_output=True, text=True, timeout=120,
                         env=env)
    assert run.returncode == 0, run.stderr
    return int(run.stdout)


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="the setting is glibc's (mallopt)")
def test_a_freed_array_comes_back_without_page_faults() -> None:
    # By default glibc unmaps the freed array and the next one is faulted in again
    # (some 500 faults with transparent huge pages, 16,000 without).
    assert faults_reallocating("default") > 100
    assert faults_reallocating("keep") < 10


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="the setting is glibc's (mallopt)")
def test_the_environment_can_leave_malloc_as_it_was() -> None:
    assert faults_reallocating("opted-out", opt_out="0") > 100
