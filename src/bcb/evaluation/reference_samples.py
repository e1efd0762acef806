"""Two reference "models" on bcb-mini, so a new machine can show the whole pipeline offline.

`canonical` answers every task with its canonical solution (an upper bound: it must score 1.0, or
the environment is broken). `flawed` answers with the mistakes real models make, each of which
bcb must judge as the official evaluator would: a wrong result, a missing import (rescued by
calibration), an exception at import time, a stub ("your code here", never counted as solved),
an infinite loop (a timeout), and a correct answer now and then.
"""

from __future__ import annotations

from bcb.dataset import Task

FLAWS = ("correct", "wrong_result", "missing_import", "import_time_error", "stub", "infinite_loop")


def canonical(tasks: list[Task]) -> list[dict[str, str]]:
    return [{"task_id": t.task_id, "solution": t.solution} for t in tasks]


def flawed(tasks: list[Task]) -> list[dict[str, str]]:
    rows = []
    for i, task in enumerate(tasks):
        flaw = FLAWS[i % len(FLAWS)]
        rows.append({"task_id": task.task_id, "solution": _apply(flaw, task), "flaw": flaw})
    return rows


def _apply(flaw: str, task: Task) -> str:
    signature = task.code_prompt.rstrip("\n").splitlines()[-1]
    imports = task.code_prompt[: task.code_prompt.rstrip("\n").rfind("\n") + 1]
    if flaw == "correct":
        return task.solution
    if flaw == "wrong_result":
        return f"{imports}{signature}\n    return None\n"
    if flaw == "missing_import":
        # The imports dropped: without calibration the solution fails with a NameError, with it
        # the prompt's imports come first and the canonical body passes.
        return task.solution[len(task.complete_prompt.split("def ")[0]) :]
    if flaw == "import_time_error":
        return task.solution + "\nraise RuntimeError('configuration file not found')\n"
    if flaw == "stub":
        return f"{imports}{signature}\n    # your code here\n    pass\n"
    if flaw == "infinite_loop":
        return f"{imports}{signature}\n    while True:\n        pass\n"
    raise ValueError(f"unknown flaw {flaw!r}")
