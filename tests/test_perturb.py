"""The perturbation transforms on hand-written tasks: exact outputs, and the traps renaming falls into.

Each task is small enough to read in full. New names are random, so expected texts are written
with placeholders (`<F>` for the new entry point, `<data>` for the new name of `data`...) filled
from the perturbation's own rename record; the names themselves are checked separately.
"""

from __future__ import annotations

import ast
import json
import random
import re

import pytest

from bcb.dataset import DatasetError, content_hash, load_dataset, parse_task, read_tasks, write_tasks
from bcb.dataset.perturbation import (
    TRANSFORMS,
    ProseRenamer,
    distinctive,
    parse_transforms,
    perturb_task,
    perturb_tasks,
    reorder_docstring,
    rephrase_instruct,
    split_instruct,
)
from bcb.dataset.perturbation.names import NamePicker, words_of
from bcb.dataset.task import check_code
from helpers import shared_file


def make_task(complete: str, canonical: str, test: str, *, description: str = "Do it.") -> object:
    """A task in the official shape: the code prompt is the prompt without its docstring, the
    instruct prompt the standard template around it."""
    code_prompt = complete.split('    """', 1)[0].rstrip("\n") + "\n"
    instruct = (
        f"{description}\nThe function should output with:\n    object: the result.\n"
        f"You should write self-contained code starting with:\n```\n{code_prompt}```"
    )
    doc = {
        "description": [description],
        "notes": [],
        "params": [],
        "returns": [],
        "reqs": [],
        "raises": [],
        "examples": [],
    }
    record = {
        "task_id": "Hand/1",
        "complete_prompt": complete,
        "instruct_prompt": instruct,
        "canonical_solution": canonical,
        "code_prompt": code_prompt,
        "test": test,
        "entry_point": "task_func",
        "doc_struct": json.dumps(doc),
        "libs": "[]",
    }
    return parse_task(record)


def fill(template: str, p: object) -> str:
    names = {**p.renames.get("entry_point", {}), **p.renames.get("params", {}), **p.renames.get("locals", {})}
    out = template.replace("<F>", p.renames["entry_point"]["task_func"]) if "<F>" in template else template
    for old, new in names.items():
        out = out.replace(f"<{old}>", new)
    return out


def run_program(task: object) -> dict:
    """Execute solution + tests in-process (these tasks are pure Python) and run the tests."""
    import unittest

    namespace: dict = {"__name__": "perturbed"}
    exec(compile(task.solution + "\n" + task.test, "<task>", "exec"), namespace)
    suite = unittest.defaultTestLoader.loadTestsFromTestCase(namespace["TestCases"])
    result = unittest.TextTestRunner(stream=open("/dev/null", "w"), verbosity=0).run(suite)
    return {"run": result.testsRun, "problems": len(result.failures) + len(result.errors)}


# ---------------------------------------------------------------------------------------------
# Entry point


ENTRY_COMPLETE = '''def task_func(word):
    """
    Greet with the name of this function, task_func.

    Parameters:
    word (str): Who to greet.

    Returns:
    str: 'task_func says ' + word

    Example:
    >>> task_func('hi')
    'task_func says hi'
    """
'''
ENTRY_CANONICAL = """    # task_func never calls itself
    return "task_func says " + word
"""
ENTRY_TEST = """import unittest
class TestCases(unittest.TestCase):
    def test_literal(self):
        self.assertEqual(task_func("x"), "task_func says x")
    def test_lookup(self):
        table = {"task_func": task_func}
        self.assertEqual(table["task_func"]("y"), "task_func says y")
"""


def test_entry_point_rename_keeps_string_literals_equal_to_the_name() -> None:
    task = make_task(ENTRY_COMPLETE, ENTRY_CANONICAL, ENTRY_TEST)
    p = perturb_task(task, seed=1, transforms=["entry-point"])
    new = p.renames["entry_point"]["task_func"]
    assert re.fullmatch(r"[a-z]+(_[a-z]+)+", new) and new not in words_of(task.to_record().values())
    assert p.applied == ("entry-point",) and p.renames["params"] == {} and p.renames["locals"] == {}
    assert p.task.entry_point == new
    assert p.task.complete_prompt == fill(
        '''def <F>(word):
    """
    Greet with the name of this function, <F>.

    Parameters:
    word (str): Who to greet.

    Returns:
    str: 'task_func says ' + word

    Example:
    >>> <F>('hi')
    'task_func says hi'
    """
''',
        p,
    )
    assert p.task.canonical_solution == fill(
        """    # <F> never calls itself
    return "task_func says " + word
""",
        p,
    )
    assert p.task.test == fill(
        """import unittest
class TestCases(unittest.TestCase):
    def test_literal(self):
        self.assertEqual(<F>("x"), "task_func says x")
    def test_lookup(self):
        table = {"task_func": <F>}
        self.assertEqual(table["task_func"]("y"), "task_func says y")
""",
        p,
    )
    assert p.task.code_prompt == f"def {new}(word):\n"
    assert p.task.instruct_prompt.endswith(f"```\ndef {new}(word):\n```")
    assert "task_func" not in p.task.instruct_prompt
    assert run_program(p.original) == run_program(p.task) == {"run": 2, "problems": 0}


# ---------------------------------------------------------------------------------------------
# Parameters


PARAM_COMPLETE = '''def task_func(data, scale=1):
    """
    Scale the values of data.

    Parameters:
    data (dict): Maps names to numbers; the key 'data' is skipped.
    scale (int): The factor.

    Returns:
    dict: A scaled copy of data.

    Example:
    >>> task_func({'a': 1}, scale=2)
    {'a': 2}
    """
'''
PARAM_CANONICAL = """    out = dict(data=None)
    out.clear()
    for key, value in data.items():
        if key != "data":
            out[key] = value * scale
    return out
"""
PARAM_TEST = """import unittest
class Holder:
    def __init__(self):
        self.data = {"data": 5, "b": 2}
class TestCases(unittest.TestCase):
    def test_keywords(self):
        holder = Holder()
        self.assertEqual(task_func(data=holder.data, scale=3), {"b": 6})
    def test_forwarded(self):
        self.assertRaises(AttributeError, task_func, data=None, scale=2)
    def test_own_local(self):
        data = {"x": 1}
        self.assertEqual(f"{task_func(data)}", "{'x': 1}")
"""


def test_param_rename_follows_keywords_but_not_dict_keys_attributes_or_other_calls() -> None:
    task = make_task(PARAM_COMPLETE, PARAM_CANONICAL, PARAM_TEST)
    p = perturb_task(task, seed=2, transforms=["params"])
    assert set(p.renames["params"]) == {"data", "scale"} and p.applied == ("params",)
    assert p.task.entry_point == "task_func"
    # `data` and `scale` are English words: renamed in prose only where the prose uses them as code
    assert p.task.complete_prompt == fill(
        '''def task_func(<data>, <scale>=1):
    """
    Scale the values of data.

    Parameters:
    <data> (dict): Maps names to numbers; the key 'data' is skipped.
    <scale> (int): The factor.

    Returns:
    dict: A scaled copy of data.

    Example:
    >>> task_func({'a': 1}, <scale>=2)
    {'a': 2}
    """
''',
        p,
    )
    assert p.task.canonical_solution == fill(
        """    out = dict(data=None)
    out.clear()
    for key, value in <data>.items():
        if key != "data":
            out[key] = value * <scale>
    return out
""",
        p,
    )
    assert p.task.test == fill(
        """import unittest
class Holder:
    def __init__(self):
        self.data = {"data": 5, "b": 2}
class TestCases(unittest.TestCase):
    def test_keywords(self):
        holder = Holder()
        self.assertEqual(task_func(<data>=holder.data, <scale>=3), {"b": 6})
    def test_forwarded(self):
        self.assertRaises(AttributeError, task_func, <data>=None, <scale>=2)
    def test_own_local(self):
        data = {"x": 1}
        self.assertEqual(f"{task_func(data)}", "{'x': 1}")
""",
        p,
    )
    assert p.task.code_prompt == fill("def task_func(<data>, <scale>=1):\n", p)
    assert run_program(p.original) == run_program(p.task) == {"run": 3, "problems": 0}


KWARGS_COMPLETE = '''def task_func(text, sep=" ", **kwargs):
    """
    Split text_value on sep.

    Parameters:
    text (str): The text.
    sep (str): The separator.
    **kwargs: upper=True upper-cases the parts.

    Returns:
    list: The parts of text.
    """
'''
KWARGS_CANONICAL = """    parts = text.split(sep)
    if kwargs.get("upper"):
        parts = [part.upper() for part in parts]
    return parts
"""
KWARGS_TEST = """import unittest
class TestCases(unittest.TestCase):
    def test_default(self):
        self.assertEqual(task_func("a b"), ["a", "b"])
    def test_double_star(self):
        self.assertEqual(task_func("a-b", **{"sep": "-"}), ["a", "b"])
    def test_collected(self):
        self.assertEqual(task_func(text="a b", upper=True), ["A", "B"])
"""


def test_parameter_passed_in_a_double_star_dict_is_not_renamed_and_kwargs_keys_stay() -> None:
    task = make_task(KWARGS_COMPLETE, KWARGS_CANONICAL, KWARGS_TEST)
    p = perturb_task(task, seed=3, transforms=["params"])
    assert list(p.renames["params"]) == ["text"]
    assert p.notes["kept name sep"] == "a call passes it to task_func as a **{...} key"
    assert p.task.complete_prompt == fill(
        '''def task_func(<text>, sep=" ", **kwargs):
    """
    Split text_value on sep.

    Parameters:
    <text> (str): The text.
    sep (str): The separator.
    **kwargs: upper=True upper-cases the parts.

    Returns:
    list: The parts of text.
    """
''',
        p,
    )
    assert p.task.canonical_solution == fill(
        """    parts = <text>.split(sep)
    if kwargs.get("upper"):
        parts = [part.upper() for part in parts]
    return parts
""",
        p,
    )
    assert p.task.test == fill(
        KWARGS_TEST.replace('task_func(text="a b"', 'task_func(<text>="a b"'),
        p,
    )
    assert run_program(p.original) == run_program(p.task) == {"run": 3, "problems": 0}


def test_an_unknown_double_star_mapping_keeps_every_parameter() -> None:
    test = KWARGS_TEST.replace('**{"sep": "-"}', "**options").replace(
        "    def test_double_star(self):\n", '    def test_double_star(self):\n        options = {"sep": "-"}\n'
    )
    p = perturb_task(make_task(KWARGS_COMPLETE, KWARGS_CANONICAL, test), seed=3, transforms=["params"])
    assert p.renames["params"] == {}
    assert "**options" in p.notes["kept name text"] and "**options" in p.notes["kept name sep"]
    assert not p.changed


# ---------------------------------------------------------------------------------------------
# Locals


LOCALS_COMPLETE = '''def task_func(rows):
    """
    Sum rows and more.

    Parameters:
    rows (list of int): The numbers.

    Returns:
    dict: Totals.
    """
'''
LOCALS_CANONICAL = """    total = 0
    seen_values = set()

    def add(value):
        nonlocal total
        total += value

    for row in rows:
        add(row)
        seen_values.add(row)  # remember row in seen_values
    squares = [row * row for row in rows]
    try:
        ratio = total / len(seen_values)
    except ZeroDivisionError as err:
        ratio = str(err)
    key = "total"
    return {key: total, "seen": sorted(seen_values), "squares": squares, "ratio": ratio, "text": f"{total} {ratio!s:.3}"}
"""
LOCALS_TEST = """import unittest
class TestCases(unittest.TestCase):
    def test_sum(self):
        total = task_func([1, 2, 3, 3])
        self.assertEqual(total["total"], 9)
        self.assertEqual(total["seen"], [1, 2, 3])
        self.assertEqual(total["squares"], [1, 4, 9, 9])
        self.assertEqual(total["text"], "9 3.0")
    def test_empty(self):
        self.assertEqual(task_func([])["ratio"], "division by zero")
"""


def test_local_rename_is_scope_aware() -> None:
    task = make_task(LOCALS_COMPLETE, LOCALS_CANONICAL, LOCALS_TEST)
    p = perturb_task(task, seed=4, transforms=["locals"])
    # every local of the entry point, in the order it first appears (the renames file is stable)
    assert list(p.renames["locals"]) == ["total", "seen_values", "row", "squares", "ratio", "err", "key"]
    # the nested function's own parameter `value` and its name `add` are not the entry point's variables
    assert p.task.canonical_solution == fill(
        """    <total> = 0
    <seen_values> = set()

    def add(value):
        nonlocal <total>
        <total> += value

    for <row> in rows:
        add(<row>)
        <seen_values>.add(<row>)  # remember row in <seen_values>
    <squares> = [<row> * <row> for <row> in rows]
    try:
        <ratio> = <total> / len(<seen_values>)
    except ZeroDivisionError as <err>:
        <ratio> = str(<err>)
    <key> = "total"
    return {<key>: <total>, "seen": sorted(<seen_values>), "squares": <squares>, "ratio": <ratio>, "text": f"{<total>} {<ratio>!s:.3}"}
""",
        p,
    )
    assert p.task.test == LOCALS_TEST and p.task.complete_prompt == LOCALS_COMPLETE
    assert run_program(p.original) == run_program(p.task) == {"run": 2, "problems": 0}


def test_names_whose_spelling_is_data_are_kept() -> None:
    canonical = """    import pandas as pd
    limit = 2
    frame = pd.DataFrame({"a": rows})
    kept = frame.query("a > @limit")
    return f"{len(kept)=}"
"""
    test = """import unittest
class TestCases(unittest.TestCase):
    def test_query(self):
        self.assertEqual(task_func([1, 2, 3]), "len(kept)=1")
"""
    p = perturb_task(make_task(LOCALS_COMPLETE, canonical, test), seed=5, transforms=["locals"])
    assert set(p.renames["locals"]) == {"frame"}
    assert "@limit" in p.notes["kept name limit"] and "kept=" in p.notes["kept name kept"]


def test_dynamic_lookups_keep_parameters_and_locals() -> None:
    canonical = """    count = len(rows)
    return "{count} rows".format(**locals())
"""
    test = """import unittest
class TestCases(unittest.TestCase):
    def test_format(self):
        self.assertEqual(task_func([1, 2]), "2 rows")
"""
    p = perturb_task(make_task(LOCALS_COMPLETE, canonical, test), seed=6, transforms=["params", "locals"])
    assert p.renames["params"] == {} and p.renames["locals"] == {}
    assert "locals()" in p.notes["kept name count"] and "locals()" in p.notes["kept name rows"]


# ---------------------------------------------------------------------------------------------
# Docstring and instruct prompt


DOCSTRING = """
    Describe it.
    Over two lines.

    Parameters:
    x (int): The input.

    Returns:
    int: The output.
    
    Raises:
    ValueError: If x < 0.

    Example:
    >>> task_func(1)
    1
    """


def test_docstring_sections_are_reordered_with_the_blank_lines_in_place() -> None:
    out = reorder_docstring(DOCSTRING, random.Random(0))
    assert (
        out
        == """
    Describe it.
    Over two lines.

    Raises:
    ValueError: If x < 0.

    Parameters:
    x (int): The input.
    
    Returns:
    int: The output.

    Example:
    >>> task_func(1)
    1
    """
    )
    assert reorder_docstring("\n    Only a description.\n\n    Returns:\n    int\n    ", random.Random(0)) is None


INSTRUCT = """Describe it.
Note that: Rows are counted once.
The function should raise the exception for: ValueError: If x < 0.
The function should output with:
    int: The output.
    str: A label.
You should write self-contained code starting with:
```
def task_func(x):
```"""


def test_instruct_prompt_blocks_are_reordered_and_phrases_reworded() -> None:
    parts = split_instruct(INSTRUCT)
    assert parts is not None and parts.code == "def task_func(x):\n" and parts.join() == INSTRUCT
    out = rephrase_instruct(parts, random.Random(0)).join()
    assert (
        out
        == """Describe it.
Please note: Rows are counted once.
The function's output:
    int: The output.
    str: A label.
The function raises the following exceptions: ValueError: If x < 0.
Your self-contained code should begin with:
```
def task_func(x):
```"""
    )


def test_prose_rules() -> None:
    renamer = ProseRenamer(
        {"task_func": "fold_rows"}, {"n": "num", "x": "x_in", "data": "records", "a": "alpha", "file_path": "location"}
    )
    cases = {
        "Up to n pairs, e.g. n.": "Up to num pairs, e.g. num.",
        "the x-axis of x.shape": "the x-axis of x_in.shape",
        "the user's data and a file": "the user's data and a file",
        "key 'file_path', then file_path": "key 'file_path', then location",
        "`data` and {data} and {a!r}": "`records` and {records} and {alpha!r}",
        "obj.file_path and \\n": "obj.file_path and \\n",
        "task_func('task_func')": "fold_rows('task_func')",
    }
    for line, expected in cases.items():
        assert renamer.line(line) == expected, line
    assert (
        renamer.line(">>> task_func(data=1, a=2) == data", example=True) == ">>> fold_rows(records=1, alpha=2) == data"
    )
    assert renamer.line("    - data (list): the rows", in_params=True) == "    - records (list): the rows"
    assert renamer.line("    data (list): the rows") == "    data (list): the rows"
    assert [distinctive(n) for n in ("file_path", "n2", "colName", "df", "n", "arr", "data", "a", "L")] == [
        True
    ] * 6 + [False, False, True]


# ---------------------------------------------------------------------------------------------
# Names, options, determinism


def test_new_names_are_fresh_and_meaningful() -> None:
    picker = NamePicker({"data", "records", "values"}, random.Random(0))
    chosen = [picker.variant("data", (("input_", ""),)) for _ in range(3)] + [
        picker.variant("file_path", (("", "_in"),))
    ]
    assert len(set(chosen)) == 4 and not {"data", "records", "values"} & set(chosen)
    assert chosen[0] == "dataset" and chosen[1] == "input_data"
    assert picker.variant("L", (("input_", ""),)) == "INPUT_L"


def test_parse_transforms() -> None:
    assert parse_transforms(None) == TRANSFORMS == parse_transforms("all")
    assert parse_transforms("locals,entry_point") == ("entry-point", "locals")
    with pytest.raises(DatasetError, match="unknown transform 'names'"):
        parse_transforms("entry-point,names")


def test_same_seed_same_bytes_other_seed_other_names(tmp_path) -> None:
    mini = load_dataset("bcb-mini")
    first = perturb_tasks(mini.tasks, seed=11)
    second = perturb_tasks(mini.tasks, seed=11)
    other = perturb_tasks(mini.tasks, seed=12)
    a = write_tasks(tmp_path / "a.jsonl", [p.task for p in first]).read_bytes()
    b = write_tasks(tmp_path / "b.jsonl", [p.task for p in second]).read_bytes()
    assert a == b
    assert [p.to_json() for p in first] == [p.to_json() for p in second]
    assert content_hash([p.task for p in other]) != content_hash([p.task for p in first]) != mini.content_hash
    for p in first:
        assert p.changed and set(p.applied) == set(TRANSFORMS), p.task_id
        check_code(p.task)
        assert "task_func" not in p.task.complete_prompt + p.task.instruct_prompt + p.task.code_prompt + p.task.test
    # only the selected transform's draws change with the selection
    alone = perturb_tasks(mini.tasks, seed=11, transforms=["entry-point"])
    assert [p.task.entry_point for p in alone] == [p.task.entry_point for p in first]


@pytest.mark.shared_data
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_every_fourth_released_task_perturbs_cleanly() -> None:
    tasks = read_tasks(shared_file("BigCodeBench-v0.1.4.jsonl.gz"), check=False)[::4]
    for p in perturb_tasks(tasks, seed=1):
        assert p.changed and "perturbation" not in p.notes, (p.task_id, p.notes)
        assert not any(k.startswith("renames") for k in p.notes), (p.task_id, p.notes)
        check_code(p.task)
        tree = ast.parse(p.task.code_prompt + "    pass\n")
        assert any(isinstance(n, ast.FunctionDef) and n.name == p.task.entry_point for n in tree.body)
        assert f"```\n{p.task.code_prompt}```" in p.task.instruct_prompt or p.task_id == "BigCodeBench/37"
