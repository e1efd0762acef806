"""Which sample starts first.

A run ends when its last sample does, so executors start the longest-expected samples first
(longest processing time first): a slow sample then overlaps the many fast ones instead of
trailing alone at the end. The caller's ``Job.expected_time`` (the task's ground-truth time) is
the estimate, with one exception the ground-truth time cannot see: a program that starts
processes through ``multiprocessing`` can hang until its time limit however quick its tests are,
because the official kill guard (which bcb reproduces) refuses the ``os.kill`` a pool or process
needs to stop its workers, and ``Pool.terminate`` then waits for them forever. Whether it hangs is
a race (v0.1.4's ground truths of 205 and 363 do sometimes, sometimes not), so such a program is
scheduled as if it took its whole limit: started early, a hang costs one worker's time alongside
the rest of the run; started last, it adds the whole limit to the run's wall time.
"""

from __future__ import annotations

import re
from typing import Sequence

from bcb.execution.jobs import Job

_PROCESS_STARTERS = re.compile(r"\bmultiprocessing\b|\bProcessPoolExecutor\b")


def may_hang_until_limit(job: Job) -> bool:
    """Does the program (solution or test) start processes the kill guard will not let it stop?"""
    return bool(_PROCESS_STARTERS.search(job.solution) or _PROCESS_STARTERS.search(job.test))


def expected_seconds(job: Job) -> float:
    """How long to plan for ``job``: its expected time, or its whole limit when it may hang."""
    if may_hang_until_limit(job):
        return max(job.expected_time, job.time_limit)
    return job.expected_time


def longest_first(jobs: Sequence[Job]) -> list[int]:
    """Indices of ``jobs`` in the order to start them: longest planned time first, ties in the
    given order (so equal estimates keep the caller's order, e.g. task order)."""
    planned = [expected_seconds(j) for j in jobs]
    return sorted(range(len(jobs)), key=lambda i: (-planned[i], i))
