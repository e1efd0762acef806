"""bcb-mini: a small benchmark that ships inside bcb.

The real BigCodeBench is a 1,140-task download whose tests need a heavy environment (TensorFlow,
scikit-learn, network fixtures...). bcb-mini exists so that a new user can see the whole pipeline
(prompt, generate, sanitize, execute, score) work in seconds with no download and only numpy,
pandas and matplotlib installed, and so that bcb's own test suite has a fixture with known answers.
Its tasks are original (not taken from BigCodeBench or any other benchmark) but are written in the
official schema, byte shape included, so that every code path that reads a real release reads
these too. They are deterministic, offline, each runs its tests well under a second, and they
write only into the working directory or tempfile directories.

Each task is written once, as the `complete_prompt` literal (imports, signature and a docstring
in the official Parameters/Returns/Raises/Requirements/Example layout) plus the canonical body and
the tests. The derived fields (`code_prompt`, `doc_struct`, `instruct_prompt`) are computed from
that literal by the same rules the official files follow, so they cannot drift from it.
"""

from __future__ import annotations

import json

__all__ = ["RECORDS", "LIB_DOMAINS"]

#: Domain of each library the mini tasks use, per BigCodeBench's own lib2domain classification.
LIB_DOMAINS: dict[str, str] = {
    "collections": "General",
    "csv": "System",
    "datetime": "Time",
    "hashlib": "Cryptography",
    "itertools": "General",
    "json": "System",
    "math": "Computation",
    "matplotlib": "Visualization",
    "numpy": "Computation",
    "os": "System",
    "pandas": "Computation",
    "pathlib": "System",
    "re": "General",
}

# Docstring section headers -> doc_struct key. Lines of the listed sections lose a leading "- ",
# as in the official doc_struct.
_SECTIONS = {
    "Parameters:": "params",
    "Returns:": "returns",
    "Raises:": "raises",
    "Note:": "notes",
    "Requirements:": "reqs",
    "Example:": "examples",
    "Examples:": "examples",
}
_DASHED = ("params", "returns", "reqs", "raises")
_DOC_KEYS = ("description", "notes", "params", "returns", "reqs", "raises", "examples")


def _doc_struct(complete_prompt: str) -> dict[str, list[str]]:
    doc: dict[str, list[str]] = {key: [] for key in _DOC_KEYS}
    section = "description"
    for raw in complete_prompt.split('"""')[1].splitlines():
        line = raw.strip()
        if not line:
            continue
        if line in _SECTIONS:
            section = _SECTIONS[line]
            continue
        if section in _DASHED and line.startswith("- "):
            line = line[2:]
        doc[section].append(line)
    return doc


def _code_prompt(complete_prompt: str) -> str:
    head = complete_prompt.split('"""')[0]
    return "\n".join(line for line in head.rstrip().splitlines() if line.strip()) + "\n"


def _instruct_prompt(doc: dict[str, list[str]], code_prompt: str) -> str:
    parts = [" ".join(doc["description"])]
    if doc["notes"]:
        parts.append("Note that: " + " ".join(doc["notes"]))
    if doc["raises"]:
        parts.append("The function should raise the exception for: " + " ".join(doc["raises"]))
    parts.append("The function should output with:\n    " + "\n    ".join(doc["returns"]))
    parts.append("You should write self-contained code starting with:\n```\n" + code_prompt + "```")
    return "\n".join(parts)


def _record(number: int, prompt: str, solution: str, test: str, libs: list[str]) -> dict[str, str]:
    complete_prompt = prompt.lstrip("\n").rstrip() + "\n"
    code_prompt = _code_prompt(complete_prompt)
    doc = _doc_struct(complete_prompt)
    return {
        "task_id": f"bcb-mini/{number}",
        "complete_prompt": complete_prompt,
        "instruct_prompt": _instruct_prompt(doc, code_prompt),
        "canonical_solution": solution.strip("\n").rstrip(),
        "code_prompt": code_prompt,
        "test": test.strip("\n").rstrip(),
        "entry_point": "task_func",
        "doc_struct": json.dumps(doc),
        "libs": repr(list(libs)),
    }


# Each entry: (complete_prompt, canonical_solution, test, libs). Raw literals, so backslashes in
# regular expressions reach the generated program unchanged.
_TASKS: list[tuple[str, str, str, list[str]]] = []

# 0: word frequencies -------------------------------------------------------------------------
_TASKS.append((
r'''
import re
from collections import Counter

def task_func(text, n=3):
    """
    Find the n most frequent words of a text. A word is a run of ASCII letters, optionally joined by
    single apostrophes inside it (so "don't" is one word and "'quoted'" is the word "quoted").
    Words are compared case-insensitively and reported in lower case. Words with the same count
    are ordered alphabetically, so the result does not depend on where words first appear.

    Parameters:
    - text (str): The text to analyse.
    - n (int, optional): How many words to return. Defaults to 3.

    Returns:
    list of tuple: Up to n (word, count) pairs, the most frequent first.

    Raises:
    - ValueError: If n is negative.

    Requirements:
    - re
    - collections

    Example:
    >>> task_func("The cat saw the dog; the dog saw a bird.", 2)
    [('the', 3), ('dog', 2)]
    >>> task_func("Don't stop. DON'T!", 1)
    [("don't", 2)]
    """
''',
r'''
    if n < 0:
        raise ValueError("n must not be negative")
    words = re.findall(r"[a-z]+(?:'[a-z]+)*", text.lower())
    counts = Counter(words)
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return ranked[:n]
''',
r'''
import unittest

class TestCases(unittest.TestCase):
    def test_example(self):
        self.assertEqual(task_func("The cat saw the dog; the dog saw a bird.", 2), [("the", 3), ("dog", 2)])

    def test_ties_are_alphabetical(self):
        self.assertEqual(task_func("pear apple fig apple pear fig", 3), [("apple", 2), ("fig", 2), ("pear", 2)])
        self.assertEqual(task_func("zeta alpha", 2), [("alpha", 1), ("zeta", 1)])

    def test_case_insensitive(self):
        self.assertEqual(task_func("Go GO go gO stop", 1), [("go", 4)])

    def test_apostrophes_digits_and_punctuation(self):
        result = task_func("'Quoted' don't abc123def -- it's; quoted", 10)
        self.assertEqual(result, [("quoted", 2), ("abc", 1), ("def", 1), ("don't", 1), ("it's", 1)])

    def test_default_n_is_three(self):
        self.assertEqual(len(task_func("a b c d e f a b c a b a")), 3)
        self.assertEqual(task_func("a b c d e f a b c a b a"), [("a", 4), ("b", 3), ("c", 2)])

    def test_zero_and_large_n(self):
        self.assertEqual(task_func("one two two", 0), [])
        self.assertEqual(task_func("one two two", 10), [("two", 2), ("one", 1)])

    def test_empty_text(self):
        self.assertEqual(task_func("", 5), [])
        self.assertEqual(task_func("123 ... !!!", 5), [])

    def test_negative_n_raises(self):
        with self.assertRaises(ValueError):
            task_func("some words here", -1)
''',
["re", "collections"],
))

# 1: moving average ---------------------------------------------------------------------------
_TASKS.append((
r'''
import numpy as np

def task_func(values, window):
    """
    Compute the simple moving average of a one-dimensional sequence of numbers, keeping only the
    positions where the window lies entirely inside the data.

    Parameters:
    - values (array-like): A one-dimensional sequence of numbers.
    - window (int): How many consecutive values are averaged together.

    Returns:
    numpy.ndarray: A float array of length len(values) - window + 1 whose i-th element is the mean of values[i:i + window].

    Raises:
    - ValueError: If values is not one-dimensional, if window is smaller than 1, or if window is larger than the number of values.

    Requirements:
    - numpy

    Example:
    >>> task_func([1, 2, 3, 4, 5], 2)
    array([1.5, 2.5, 3.5, 4.5])
    >>> task_func([4, 8, 6], 3)
    array([6.])
    """
''',
r'''
    arr = np.asarray(values, dtype=float)
    if arr.ndim != 1:
        raise ValueError("values must be one-dimensional")
    if window < 1 or window > arr.size:
        raise ValueError("window must be between 1 and the number of values")
    return np.convolve(arr, np.ones(window) / window, mode="valid")
''',
r'''
import unittest
import numpy as np

class TestCases(unittest.TestCase):
    def test_example(self):
        np.testing.assert_allclose(task_func([1, 2, 3, 4, 5], 2), [1.5, 2.5, 3.5, 4.5])

    def test_window_three(self):
        result = task_func([2, 4, 6, 8, 10, 3], 3)
        self.assertEqual(result.shape, (4,))
        np.testing.assert_allclose(result, [4.0, 6.0, 8.0, 7.0])

    def test_window_one_is_identity_as_float(self):
        result = task_func(np.array([3, -1, 7]), 1)
        self.assertIsInstance(result, np.ndarray)
        self.assertTrue(np.issubdtype(result.dtype, np.floating))
        np.testing.assert_allclose(result, [3.0, -1.0, 7.0])

    def test_full_window(self):
        np.testing.assert_allclose(task_func([1, 2, 3, 10], 4), [4.0])

    def test_integer_input_gives_exact_halves(self):
        np.testing.assert_allclose(task_func([1, 2], 2), [1.5])

    def test_negative_values(self):
        np.testing.assert_allclose(task_func([-2.0, 2.0, -4.0, 4.0], 2), [0.0, -1.0, 0.0])

    def test_bad_window_raises(self):
        with self.assertRaises(ValueError):
            task_func([1, 2, 3], 0)
        with self.assertRaises(ValueError):
            task_func([1, 2, 3], 4)
        with self.assertRaises(ValueError):
            task_func([], 1)

    def test_two_dimensional_raises(self):
        with self.assertRaises(ValueError):
            task_func([[1, 2], [3, 4]], 1)
''',
["numpy"],
))

# 2: CSV column value counts ------------------------------------------------------------------
_TASKS.append((
r'''
import csv
from collections import Counter

def task_func(csv_path, column):
    """
    Count how often each value occurs in one column of a CSV file that starts with a header row.
    Values are stripped of surrounding whitespace, and empty values (or missing fields of short
    rows) are not counted.

    Parameters:
    - csv_path (str): Path to the CSV file.
    - column (str): The header name of the column to summarise.

    Returns:
    collections.Counter: Maps each distinct non-empty value of the column to the number of rows that hold it.

    Raises:
    - FileNotFoundError: If csv_path does not exist.
    - ValueError: If the file has no header or no column with the given name.

    Requirements:
    - csv
    - collections

    Example:
    >>> with open('pets.csv', 'w', newline='') as f:
    ...     csv.writer(f).writerows([['name', 'species'], ['Rex', 'dog'], ['Tom', 'cat'], ['Fido', 'dog']])
    >>> task_func('pets.csv', 'species')
    Counter({'dog': 2, 'cat': 1})
    """
''',
r'''
    with open(csv_path, newline="") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None or column not in reader.fieldnames:
            raise ValueError(f"no column named {column!r}")
        counts = Counter()
        for row in reader:
            value = (row.get(column) or "").strip()
            if value:
                counts[value] += 1
    return counts
''',
r'''
import unittest
import os
import tempfile
from collections import Counter

class TestCases(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()

    def tearDown(self):
        self.tmp.cleanup()

    def write(self, name, text):
        path = os.path.join(self.tmp.name, name)
        with open(path, "w", newline="") as handle:
            handle.write(text)
        return path

    def test_basic_counts(self):
        path = self.write("a.csv", "city,team\nOslo,red\nLima,blue\nOslo,blue\nOslo,red\n")
        result = task_func(path, "city")
        self.assertIsInstance(result, Counter)
        self.assertEqual(result, Counter({"Oslo": 3, "Lima": 1}))
        self.assertEqual(task_func(path, "team"), Counter({"red": 2, "blue": 2}))

    def test_whitespace_and_empty_values(self):
        path = self.write("b.csv", "k,v\n x ,1\nx,2\n,3\n   ,4\ny\n")
        self.assertEqual(task_func(path, "k"), Counter({"x": 2, "y": 1}))
        self.assertEqual(task_func(path, "v"), Counter({"1": 1, "2": 1, "3": 1, "4": 1}))

    def test_quoted_fields(self):
        path = self.write("c.csv", 'place,n\n"Paris, FR",1\n"Paris, FR",2\nRome,3\n')
        self.assertEqual(task_func(path, "place"), Counter({"Paris, FR": 2, "Rome": 1}))

    def test_header_only(self):
        path = self.write("d.csv", "a,b\n")
        self.assertEqual(task_func(path, "a"), Counter())

    def test_missing_column_raises(self):
        path = self.write("e.csv", "a,b\n1,2\n")
        with self.assertRaises(ValueError):
            task_func(path, "c")

    def test_empty_file_raises(self):
        path = self.write("f.csv", "")
        with self.assertRaises(ValueError):
            task_func(path, "a")

    def test_missing_file_raises(self):
        with self.assertRaises(FileNotFoundError):
            task_func(os.path.join(self.tmp.name, "nope.csv"), "a")
''',
["csv", "collections"],
))

# 3: log summary ------------------------------------------------------------------------------
_TASKS.append((
r'''
import re
from datetime import datetime
from collections import Counter

def task_func(lines, since=None):
    """
    Summarise log lines. A well-formed line reads "YYYY-MM-DD HH:MM:SS LEVEL message", where LEVEL is
    one of DEBUG, INFO, WARNING, ERROR or CRITICAL in upper case and the message may be empty.
    Surrounding whitespace on a line is ignored; lines in any other form, or with an impossible date
    or time such as 2023-02-30, are skipped. When since is given, only entries stamped at or after it
    are counted.

    Parameters:
    - lines (iterable of str): The log lines.
    - since (datetime.datetime, optional): The earliest timestamp to count. Defaults to None (count all).

    Returns:
    tuple: A tuple containing:
        - collections.Counter: The number of counted entries per level.
        - datetime.datetime or None: The latest timestamp among the counted entries, or None if nothing was counted.

    Requirements:
    - re
    - datetime
    - collections

    Example:
    >>> lines = ["2024-05-01 09:00:00 INFO service started",
    ...          "2024-05-01 09:05:12 ERROR disk full",
    ...          "2024-05-01 09:06:00 INFO retrying",
    ...          "this line is not a log entry"]
    >>> counts, latest = task_func(lines)
    >>> dict(counts)
    {'INFO': 2, 'ERROR': 1}
    >>> latest
    datetime.datetime(2024, 5, 1, 9, 6)
    >>> task_func(lines, since=datetime(2024, 5, 1, 9, 5))[0]
    Counter({'ERROR': 1, 'INFO': 1})
    """
''',
r'''
    pattern = re.compile(
        r"(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}) (DEBUG|INFO|WARNING|ERROR|CRITICAL)(?: .*)?"
    )
    counts = Counter()
    latest = None
    for line in lines:
        match = pattern.fullmatch(line.strip())
        if match is None:
            continue
        try:
            stamp = datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S")
        except ValueError:
            continue
        if since is not None and stamp < since:
            continue
        counts[match.group(2)] += 1
        if latest is None or stamp > latest:
            latest = stamp
    return counts, latest
''',
r'''
import unittest
from collections import Counter
from datetime import datetime

class TestCases(unittest.TestCase):
    def setUp(self):
        self.lines = [
            "2024-05-01 09:00:00 INFO service started",
            "2024-05-01 09:05:12 ERROR disk full",
            "2024-05-01 09:06:00 INFO retrying",
            "2024-05-01 08:59:59 DEBUG written late but stamped early",
            "2024-05-01 09:07:30 CRITICAL gave up",
        ]

    def test_counts_and_latest(self):
        counts, latest = task_func(self.lines)
        self.assertIsInstance(counts, Counter)
        self.assertEqual(counts, Counter({"INFO": 2, "ERROR": 1, "DEBUG": 1, "CRITICAL": 1}))
        self.assertEqual(latest, datetime(2024, 5, 1, 9, 7, 30))

    def test_latest_is_max_not_last(self):
        counts, latest = task_func(self.lines[:4])
        self.assertEqual(latest, datetime(2024, 5, 1, 9, 6, 0))

    def test_since_is_inclusive(self):
        counts, latest = task_func(self.lines, since=datetime(2024, 5, 1, 9, 5, 12))
        self.assertEqual(counts, Counter({"ERROR": 1, "INFO": 1, "CRITICAL": 1}))
        self.assertEqual(latest, datetime(2024, 5, 1, 9, 7, 30))

    def test_malformed_lines_skipped(self):
        lines = [
            "2024-05-01 09:00:00 info lower-case level",
            "2024-05-01 09:00:00 NOTICE unknown level",
            "2024-02-30 10:00:00 ERROR impossible date",
            "2024-05-01 25:00:00 ERROR impossible hour",
            "2024-05-01T09:00:00 ERROR wrong separator",
            "05/01/2024 09:00:00 ERROR wrong date format",
            "2024-05-01 09:00:00 WARNINGS suffix",
            "",
            "2024-05-01 10:00:00 WARNING",
            "  2024-05-01 10:30:00 WARNING padded line \n",
        ]
        counts, latest = task_func(lines)
        self.assertEqual(counts, Counter({"WARNING": 2}))
        self.assertEqual(latest, datetime(2024, 5, 1, 10, 30))

    def test_nothing_counted(self):
        self.assertEqual(task_func([]), (Counter(), None))
        counts, latest = task_func(self.lines, since=datetime(2025, 1, 1))
        self.assertEqual(counts, Counter())
        self.assertIsNone(latest)

    def test_accepts_any_iterable(self):
        counts, _ = task_func(line for line in self.lines)
        self.assertEqual(sum(counts.values()), 5)
''',
["re", "datetime", "collections"],
))

# 4: directory checksum manifest --------------------------------------------------------------
_TASKS.append((
r'''
import os
import hashlib

def task_func(directory, algorithm="sha256"):
    """
    Build a checksum manifest of a directory: the hex digest of every regular file below it,
    recursively, for example to detect later which files changed. Files are read in chunks so
    that large files need not fit in memory.

    Parameters:
    - directory (str): The root directory to scan.
    - algorithm (str, optional): A hash name accepted by hashlib.new, such as "md5" or "sha256". Defaults to "sha256".

    Returns:
    dict: Maps each file's path relative to directory, written with forward slashes, to the hex digest of its content.

    Raises:
    - FileNotFoundError: If directory does not exist or is not a directory.
    - ValueError: If hashlib does not support the algorithm.

    Requirements:
    - os
    - hashlib

    Example:
    >>> os.makedirs('site/css', exist_ok=True)
    >>> with open('site/css/main.css', 'w') as f:
    ...     _ = f.write('body {}')
    >>> task_func('site', 'md5')
    {'css/main.css': 'fcdce6b6d6e2175f6406869882f6f1ce'}
    """
''',
r'''
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"no such directory: {directory}")
    try:
        hashlib.new(algorithm)
    except (ValueError, TypeError):
        raise ValueError(f"unsupported hash algorithm: {algorithm!r}")
    manifest = {}
    for root, _dirs, files in os.walk(directory):
        for name in files:
            path = os.path.join(root, name)
            if not os.path.isfile(path):
                continue
            digest = hashlib.new(algorithm)
            with open(path, "rb") as handle:
                for chunk in iter(lambda: handle.read(65536), b""):
                    digest.update(chunk)
            relative = os.path.relpath(path, directory).replace(os.sep, "/")
            manifest[relative] = digest.hexdigest()
    return manifest
''',
r'''
import unittest
import hashlib
import os
import tempfile

class TestCases(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.root = self.tmp.name

    def tearDown(self):
        self.tmp.cleanup()

    def write(self, relative, data):
        path = os.path.join(self.root, *relative.split("/"))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as handle:
            handle.write(data)

    def test_single_file_sha256(self):
        self.write("hello.txt", b"hello")
        self.assertEqual(task_func(self.root), {"hello.txt": hashlib.sha256(b"hello").hexdigest()})

    def test_nested_paths_use_forward_slashes(self):
        self.write("a/b/c.bin", b"\x00\x01")
        self.write("a/d.txt", b"d")
        self.write("top.txt", b"top")
        result = task_func(self.root)
        self.assertEqual(set(result), {"a/b/c.bin", "a/d.txt", "top.txt"})
        self.assertEqual(result["a/b/c.bin"], hashlib.sha256(b"\x00\x01").hexdigest())

    def test_other_algorithm(self):
        self.write("x.txt", b"abc")
        self.assertEqual(task_func(self.root, "md5"), {"x.txt": "900150983cd24fb0d6963f7d28e17f72"})

    def test_empty_directory_and_empty_file(self):
        self.assertEqual(task_func(self.root), {})
        os.makedirs(os.path.join(self.root, "only", "dirs"))
        self.assertEqual(task_func(self.root), {})
        self.write("empty", b"")
        self.assertEqual(task_func(self.root), {"empty": hashlib.sha256(b"").hexdigest()})

    def test_large_file(self):
        data = bytes(range(256)) * 1000
        self.write("big.bin", data)
        self.assertEqual(task_func(self.root)["big.bin"], hashlib.sha256(data).hexdigest())

    def test_missing_or_file_path_raises(self):
        with self.assertRaises(FileNotFoundError):
            task_func(os.path.join(self.root, "missing"))
        self.write("plain.txt", b"x")
        with self.assertRaises(FileNotFoundError):
            task_func(os.path.join(self.root, "plain.txt"))

    def test_unknown_algorithm_raises(self):
        self.write("x.txt", b"abc")
        with self.assertRaises(ValueError):
            task_func(self.root, "not-a-hash")
''',
["os", "hashlib"],
))

# 5: group totals with a bar chart ------------------------------------------------------------
_TASKS.append((
r'''
import pandas as pd
import matplotlib.pyplot as plt

def task_func(df, group_col="category", value_col="value"):
    """
    Total a numeric column per group and draw the totals as a bar chart, largest total first.
    Groups with equal totals keep the ascending order of their labels.

    Parameters:
    - df (pandas.DataFrame): The input data.
    - group_col (str, optional): The column holding the group labels. Defaults to "category".
    - value_col (str, optional): The numeric column to total. Defaults to "value".

    Returns:
    tuple: A tuple containing:
        - pandas.Series: The totals indexed by group label, in descending order.
        - matplotlib.axes.Axes: The bar chart, one bar per group in the same order, titled "Total <value_col> by <group_col>", with x label group_col and y label "Total".

    Raises:
    - ValueError: If df is empty or lacks group_col or value_col.

    Requirements:
    - pandas
    - matplotlib.pyplot

    Example:
    >>> df = pd.DataFrame({"category": ["fruit", "veg", "fruit", "dairy"], "value": [3, 5, 4, 1]})
    >>> totals, ax = task_func(df)
    >>> list(totals.index), totals.tolist()
    (['fruit', 'veg', 'dairy'], [7, 5, 1])
    >>> ax.get_title()
    'Total value by category'
    """
''',
r'''
    if df.empty or group_col not in df.columns or value_col not in df.columns:
        raise ValueError("df must be non-empty and contain both columns")
    totals = df.groupby(group_col)[value_col].sum().sort_values(ascending=False, kind="mergesort")
    fig, ax = plt.subplots()
    ax.bar([str(label) for label in totals.index], totals.values)
    ax.set_title(f"Total {value_col} by {group_col}")
    ax.set_xlabel(group_col)
    ax.set_ylabel("Total")
    return totals, ax
''',
r'''
import unittest
import pandas as pd
import matplotlib
import matplotlib.pyplot as plt

class TestCases(unittest.TestCase):
    def tearDown(self):
        plt.close("all")

    def test_totals_sorted_descending(self):
        df = pd.DataFrame({"category": ["a", "b", "a", "c", "b", "b"], "value": [1, 2, 3, 10, 2, 2]})
        totals, ax = task_func(df)
        self.assertIsInstance(totals, pd.Series)
        self.assertEqual(list(totals.index), ["c", "b", "a"])
        self.assertEqual(totals.tolist(), [10, 6, 4])

    def test_bars_match_totals(self):
        df = pd.DataFrame({"category": ["x", "y", "x"], "value": [1.5, 4.0, 1.0]})
        totals, ax = task_func(df)
        self.assertIsInstance(ax, matplotlib.axes.Axes)
        self.assertEqual([p.get_height() for p in ax.patches], [4.0, 2.5])
        ax.figure.canvas.draw()
        self.assertEqual([t.get_text() for t in ax.get_xticklabels()], ["y", "x"])

    def test_labels_and_title(self):
        df = pd.DataFrame({"team": ["red", "blue"], "points": [3, 4]})
        totals, ax = task_func(df, group_col="team", value_col="points")
        self.assertEqual(ax.get_title(), "Total points by team")
        self.assertEqual(ax.get_xlabel(), "team")
        self.assertEqual(ax.get_ylabel(), "Total")

    def test_ties_keep_label_order(self):
        df = pd.DataFrame({"category": ["delta", "alpha", "charlie", "bravo"], "value": [5, 5, 9, 5]})
        totals, _ = task_func(df)
        self.assertEqual(list(totals.index), ["charlie", "alpha", "bravo", "delta"])
        labels = [f"g{(i * 7) % 40:02d}" for i in range(40)]
        totals, _ = task_func(pd.DataFrame({"category": labels, "value": [1] * 40}))
        self.assertEqual(list(totals.index), sorted(labels))

    def test_negative_values(self):
        df = pd.DataFrame({"category": ["p", "q", "p"], "value": [-3, -1, 1]})
        totals, ax = task_func(df)
        self.assertEqual(totals.tolist(), [-1, -2])
        self.assertEqual(len(ax.patches), 2)

    def test_input_not_modified(self):
        df = pd.DataFrame({"category": ["b", "a"], "value": [1, 2]})
        task_func(df)
        self.assertEqual(list(df.columns), ["category", "value"])
        self.assertEqual(df["category"].tolist(), ["b", "a"])

    def test_invalid_input_raises(self):
        with self.assertRaises(ValueError):
            task_func(pd.DataFrame({"category": [], "value": []}))
        with self.assertRaises(ValueError):
            task_func(pd.DataFrame({"category": ["a"], "amount": [1]}))
        with self.assertRaises(ValueError):
            task_func(pd.DataFrame({"value": [1]}))
''',
["pandas", "matplotlib"],
))

# 6: JSON flattener ---------------------------------------------------------------------------
_TASKS.append((
r'''
import json

def task_func(json_text, sep="."):
    """
    Flatten a JSON document into a single-level dictionary. The keys of nested objects are joined
    with sep, and list items contribute their position as a key component, so
    {"a": {"b": [10, 20]}} becomes {"a.b.0": 10, "a.b.1": 20}. Empty objects and empty lists
    below the top level are kept as values, so no information is lost.

    Parameters:
    - json_text (str): A JSON document whose top level is an object.
    - sep (str, optional): The separator placed between key components. Defaults to ".".

    Returns:
    dict: Maps each joined key path, in document order, to its scalar value (str, int, float, bool or None), or to {} or [] for an empty container.

    Raises:
    - ValueError: If json_text is not valid JSON or its top level is not an object.

    Requirements:
    - json

    Example:
    >>> task_func('{"user": {"name": "Ada", "tags": ["admin", "dev"]}, "active": true}')
    {'user.name': 'Ada', 'user.tags.0': 'admin', 'user.tags.1': 'dev', 'active': True}
    """
''',
r'''
    data = json.loads(json_text)
    if not isinstance(data, dict):
        raise ValueError("the top level of the document must be an object")
    flat = {}

    def walk(value, path):
        if isinstance(value, dict) and value:
            for key, child in value.items():
                walk(child, path + [str(key)])
        elif isinstance(value, list) and value:
            for index, child in enumerate(value):
                walk(child, path + [str(index)])
        else:
            flat[sep.join(path)] = value

    for key, child in data.items():
        walk(child, [key])
    return flat
''',
r'''
import unittest

class TestCases(unittest.TestCase):
    def test_example(self):
        result = task_func('{"user": {"name": "Ada", "tags": ["admin", "dev"]}, "active": true}')
        self.assertEqual(result, {"user.name": "Ada", "user.tags.0": "admin", "user.tags.1": "dev", "active": True})
        self.assertEqual(list(result), ["user.name", "user.tags.0", "user.tags.1", "active"])

    def test_flat_input_unchanged(self):
        self.assertEqual(task_func('{"a": 1, "b": "x", "c": null, "d": 2.5, "e": false}'),
                         {"a": 1, "b": "x", "c": None, "d": 2.5, "e": False})

    def test_lists_of_objects_and_nested_lists(self):
        text = '{"rows": [{"id": 1}, {"id": 2, "p": [[7]]}]}'
        self.assertEqual(task_func(text), {"rows.0.id": 1, "rows.1.id": 2, "rows.1.p.0.0": 7})

    def test_custom_separator(self):
        self.assertEqual(task_func('{"a": {"b": {"c": 1}}}', sep="/"), {"a/b/c": 1})

    def test_empty_containers_kept(self):
        self.assertEqual(task_func('{"a": {}, "b": [], "c": {"d": []}}'), {"a": {}, "b": [], "c.d": []})
        self.assertEqual(task_func("{}"), {})

    def test_not_an_object_raises(self):
        with self.assertRaises(ValueError):
            task_func("[1, 2, 3]")
        with self.assertRaises(ValueError):
            task_func('"text"')

    def test_invalid_json_raises(self):
        with self.assertRaises(ValueError):
            task_func('{"a": }')
''',
["json"],
))

# 7: subsets with a given sum -----------------------------------------------------------------
_TASKS.append((
r'''
from itertools import combinations

def task_func(numbers, target):
    """
    Find every combination of the given numbers whose elements add up to target. The numbers are
    first sorted in ascending order; combinations are then listed by size (smallest first) and,
    within one size, in the order itertools.combinations yields them from the sorted numbers.
    Repeated numbers in the input can produce the same combination more than once: only its first
    occurrence is kept.

    Parameters:
    - numbers (list of int): The candidate numbers, at most 20 of them.
    - target (int): The required sum.

    Returns:
    list of tuple: The non-empty combinations, each in ascending order, whose sum equals target.

    Raises:
    - ValueError: If more than 20 numbers are given.

    Requirements:
    - itertools

    Example:
    >>> task_func([3, 1, 2, 4], 5)
    [(1, 4), (2, 3)]
    >>> task_func([2, 2, 3], 4)
    [(2, 2)]
    """
''',
r'''
    if len(numbers) > 20:
        raise ValueError("at most 20 numbers are supported")
    ordered = sorted(numbers)
    found = []
    seen = set()
    for size in range(1, len(ordered) + 1):
        for combo in combinations(ordered, size):
            if sum(combo) == target and combo not in seen:
                seen.add(combo)
                found.append(combo)
    return found
''',
r'''
import unittest

class TestCases(unittest.TestCase):
    def test_example(self):
        self.assertEqual(task_func([3, 1, 2, 4], 5), [(1, 4), (2, 3)])

    def test_sizes_in_order(self):
        self.assertEqual(task_func([1, 2, 3, 4, 5], 6), [(1, 5), (2, 4), (1, 2, 3)])

    def test_single_element_combinations(self):
        self.assertEqual(task_func([5, 1, 4], 5), [(5,), (1, 4)])

    def test_duplicates_removed(self):
        self.assertEqual(task_func([2, 3, 2], 5), [(2, 3)])
        self.assertEqual(task_func([1, 1, 1], 2), [(1, 1)])

    def test_negative_and_zero(self):
        self.assertEqual(task_func([1, 0, -1], 0), [(0,), (-1, 1), (-1, 0, 1)])

    def test_no_solution(self):
        self.assertEqual(task_func([2, 4, 6], 5), [])
        self.assertEqual(task_func([], 0), [])

    def test_too_many_numbers_raises(self):
        with self.assertRaises(ValueError):
            task_func(list(range(21)), 3)
''',
["itertools"],
))

# 8: working days -----------------------------------------------------------------------------
_TASKS.append((
r'''
from datetime import date, timedelta

def task_func(start, end, holidays=None):
    """
    Count the working days from start up to but not including end. A working day is a Monday to
    Friday that is not one of the holidays. Dates are ISO strings of the form "YYYY-MM-DD".

    Parameters:
    - start (str): The first day of the period (inclusive).
    - end (str): The end of the period (exclusive).
    - holidays (list of str, optional): Days off; a holiday that falls on a weekend changes nothing. Defaults to None.

    Returns:
    int: The number of working days in [start, end).

    Raises:
    - ValueError: If a date string is malformed or end is before start.

    Requirements:
    - datetime

    Example:
    >>> task_func("2024-01-01", "2024-01-08")
    5
    >>> task_func("2024-01-01", "2024-01-08", holidays=["2024-01-01", "2024-01-06"])
    4
    """
''',
r'''
    first = date.fromisoformat(start)
    last = date.fromisoformat(end)
    if last < first:
        raise ValueError("end must not be before start")
    days_off = {date.fromisoformat(day) for day in (holidays or [])}
    count = 0
    day = first
    while day < last:
        if day.weekday() < 5 and day not in days_off:
            count += 1
        day += timedelta(days=1)
    return count
''',
r'''
import unittest

class TestCases(unittest.TestCase):
    def test_one_week(self):
        self.assertEqual(task_func("2024-01-01", "2024-01-08"), 5)

    def test_end_is_exclusive(self):
        self.assertEqual(task_func("2024-01-01", "2024-01-02"), 1)
        self.assertEqual(task_func("2024-01-01", "2024-01-01"), 0)

    def test_weekend_only(self):
        self.assertEqual(task_func("2024-01-06", "2024-01-08"), 0)

    def test_holidays(self):
        self.assertEqual(task_func("2024-01-01", "2024-01-08", ["2024-01-01", "2024-01-03"]), 3)
        self.assertEqual(task_func("2024-01-01", "2024-01-08", ["2024-01-06", "2023-12-25"]), 5)
        self.assertEqual(task_func("2024-01-01", "2024-01-08", ["2024-01-02", "2024-01-02"]), 4)

    def test_across_month_in_leap_year(self):
        # 2024-02-26 (Mon) .. 2024-03-04 (Mon): Feb 26-29 and Mar 1 are weekdays.
        self.assertEqual(task_func("2024-02-26", "2024-03-04"), 5)
        self.assertEqual(task_func("2024-01-01", "2025-01-01"), 262)

    def test_end_before_start_raises(self):
        with self.assertRaises(ValueError):
            task_func("2024-01-08", "2024-01-01")

    def test_malformed_date_raises(self):
        with self.assertRaises(ValueError):
            task_func("2024/01/01", "2024-01-08")
        with self.assertRaises(ValueError):
            task_func("2024-01-01", "2024-01-08", ["someday"])
''',
["datetime"],
))

# 9: duplicate files --------------------------------------------------------------------------
_TASKS.append((
r'''
from pathlib import Path
import hashlib
from collections import defaultdict

def task_func(directory):
    """
    Find the groups of files with identical content anywhere below a directory. Files are compared
    by the SHA-256 digest of their bytes, so names and locations do not matter; empty files are
    identical to each other.

    Parameters:
    - directory (str or pathlib.Path): The directory to search recursively.

    Returns:
    list of list of str: One list per group of two or more identical files, holding their paths relative to directory in POSIX form, sorted; the groups are sorted by their first path.

    Raises:
    - NotADirectoryError: If directory does not exist or is not a directory.

    Requirements:
    - pathlib
    - hashlib
    - collections

    Example:
    >>> root = Path('photos')
    >>> (root / 'old').mkdir(parents=True, exist_ok=True)
    >>> _ = (root / 'a.txt').write_text('same')
    >>> _ = (root / 'old' / 'b.txt').write_text('same')
    >>> _ = (root / 'c.txt').write_text('other')
    >>> task_func('photos')
    [['a.txt', 'old/b.txt']]
    """
''',
r'''
    root = Path(directory)
    if not root.is_dir():
        raise NotADirectoryError(f"not a directory: {directory}")
    groups = defaultdict(list)
    for path in root.rglob("*"):
        if path.is_file():
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            groups[digest].append(path.relative_to(root).as_posix())
    duplicates = [sorted(paths) for paths in groups.values() if len(paths) > 1]
    return sorted(duplicates, key=lambda group: group[0])
''',
r'''
import unittest
import tempfile
from pathlib import Path

class TestCases(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.root = Path(self.tmp.name)

    def tearDown(self):
        self.tmp.cleanup()

    def write(self, relative, data):
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    def test_no_duplicates(self):
        self.write("a.txt", b"1")
        self.write("b.txt", b"2")
        self.assertEqual(task_func(self.tmp.name), [])

    def test_pair_across_directories(self):
        self.write("x/y/deep.dat", b"payload")
        self.write("shallow.dat", b"payload")
        self.write("other.dat", b"different")
        self.assertEqual(task_func(self.root), [["shallow.dat", "x/y/deep.dat"]])

    def test_several_groups_sorted(self):
        self.write("z1", b"zz")
        self.write("z2", b"zz")
        self.write("b/m", b"mm")
        self.write("a", b"mm")
        self.write("c/m2", b"mm")
        self.assertEqual(task_func(self.root), [["a", "b/m", "c/m2"], ["z1", "z2"]])

    def test_same_name_different_content(self):
        self.write("one/data.csv", b"1,2")
        self.write("two/data.csv", b"3,4")
        self.assertEqual(task_func(self.root), [])

    def test_empty_files_are_duplicates(self):
        self.write("e1", b"")
        self.write("sub/e2", b"")
        (self.root / "empty_dir").mkdir()
        self.assertEqual(task_func(self.root), [["e1", "sub/e2"]])

    def test_not_a_directory_raises(self):
        with self.assertRaises(NotADirectoryError):
            task_func(self.root / "missing")
        self.write("file.txt", b"x")
        with self.assertRaises(NotADirectoryError):
            task_func(self.root / "file.txt")
''',
["pathlib", "hashlib", "collections"],
))

# 10: min-max scaling with a line plot --------------------------------------------------------
_TASKS.append((
r'''
import numpy as np
import matplotlib.pyplot as plt

def task_func(data, labels=None):
    """
    Rescale every column of a 2-D array to the range [0, 1] (min-max scaling) and plot each scaled
    column as a line against the row number. A constant column becomes all zeros.

    Parameters:
    - data (array-like): A 2-D array of numbers of shape (n_rows, n_columns) with at least one row.
    - labels (list of str, optional): One legend label per column. Defaults to "col0", "col1", ...

    Returns:
    tuple: A tuple containing:
        - numpy.ndarray: The scaled float array, of the same shape as data.
        - matplotlib.axes.Axes: The plot: one line per column, labelled from labels, a legend, the title "Min-max scaled columns", x label "Row" and y label "Scaled value".

    Raises:
    - ValueError: If data is not 2-D, has no rows, or the number of labels differs from the number of columns.

    Requirements:
    - numpy
    - matplotlib.pyplot

    Example:
    >>> scaled, ax = task_func([[1, 10], [2, 30], [3, 20]], labels=["a", "b"])
    >>> scaled
    array([[0. , 0. ],
           [0.5, 1. ],
           [1. , 0.5]])
    >>> [line.get_label() for line in ax.get_lines()]
    ['a', 'b']
    """
''',
r'''
    arr = np.asarray(data, dtype=float)
    if arr.ndim != 2 or arr.shape[0] == 0:
        raise ValueError("data must be a 2-D array with at least one row")
    if labels is None:
        labels = [f"col{i}" for i in range(arr.shape[1])]
    if len(labels) != arr.shape[1]:
        raise ValueError("labels must have one entry per column")
    low = arr.min(axis=0)
    span = arr.max(axis=0) - low
    scaled = (arr - low) / np.where(span == 0, 1.0, span)
    fig, ax = plt.subplots()
    rows = np.arange(arr.shape[0])
    for i, label in enumerate(labels):
        ax.plot(rows, scaled[:, i], label=label)
    ax.set_title("Min-max scaled columns")
    ax.set_xlabel("Row")
    ax.set_ylabel("Scaled value")
    ax.legend()
    return scaled, ax
''',
r'''
import unittest
import numpy as np
import matplotlib
import matplotlib.pyplot as plt

class TestCases(unittest.TestCase):
    def tearDown(self):
        plt.close("all")

    def test_scaling(self):
        scaled, _ = task_func([[1, 10], [2, 30], [3, 20]])
        self.assertIsInstance(scaled, np.ndarray)
        self.assertEqual(scaled.shape, (3, 2))
        np.testing.assert_allclose(scaled, [[0.0, 0.0], [0.5, 1.0], [1.0, 0.5]])

    def test_negative_values(self):
        scaled, _ = task_func(np.array([[-4.0], [0.0], [4.0], [-2.0]]))
        np.testing.assert_allclose(scaled[:, 0], [0.0, 0.5, 1.0, 0.25])

    def test_constant_column_is_zero(self):
        scaled, _ = task_func([[5, 1], [5, 2], [5, 3]])
        np.testing.assert_allclose(scaled[:, 0], [0.0, 0.0, 0.0])
        self.assertFalse(np.isnan(scaled).any())
        scaled, _ = task_func([[7, 8, 9]])
        np.testing.assert_allclose(scaled, [[0.0, 0.0, 0.0]])

    def test_plot_lines_and_labels(self):
        scaled, ax = task_func([[0, 1, 2], [1, 3, 0]], labels=["x", "y", "z"])
        self.assertIsInstance(ax, matplotlib.axes.Axes)
        lines = ax.get_lines()
        self.assertEqual([line.get_label() for line in lines], ["x", "y", "z"])
        np.testing.assert_allclose(lines[1].get_ydata(), [0.0, 1.0])
        np.testing.assert_allclose(lines[1].get_xdata(), [0, 1])
        self.assertEqual([t.get_text() for t in ax.get_legend().get_texts()], ["x", "y", "z"])

    def test_default_labels_and_titles(self):
        _, ax = task_func([[1, 2], [3, 4]])
        self.assertEqual([line.get_label() for line in ax.get_lines()], ["col0", "col1"])
        self.assertEqual(ax.get_title(), "Min-max scaled columns")
        self.assertEqual(ax.get_xlabel(), "Row")
        self.assertEqual(ax.get_ylabel(), "Scaled value")

    def test_input_not_modified(self):
        data = np.array([[1.0, 2.0], [3.0, 6.0]])
        task_func(data)
        np.testing.assert_array_equal(data, [[1.0, 2.0], [3.0, 6.0]])

    def test_invalid_input_raises(self):
        with self.assertRaises(ValueError):
            task_func([1, 2, 3])
        with self.assertRaises(ValueError):
            task_func(np.zeros((0, 2)))
        with self.assertRaises(ValueError):
            task_func([[1, 2], [3, 4]], labels=["only one"])
''',
["numpy", "matplotlib"],
))

# 11: daily totals ----------------------------------------------------------------------------
_TASKS.append((
r'''
import pandas as pd
from datetime import datetime

def task_func(records, start=None, end=None):
    """
    Turn (timestamp, amount) records into daily totals with one entry per calendar day, days
    without records included (total 0). The days run from start to end inclusive; each defaults
    to the day of the earliest or latest record. Records outside that range are dropped.

    Parameters:
    - records (list of tuple): (timestamp, amount) pairs, where timestamp is a datetime.datetime or an ISO string such as "2024-03-01 14:30" or "2024-03-01", and amount is a number.
    - start (datetime.date, optional): The first day of the result. Defaults to None.
    - end (datetime.date, optional): The last day of the result. Defaults to None.

    Returns:
    pandas.Series: The float totals, named "total", indexed by a DatetimeIndex of consecutive days named "date".

    Raises:
    - ValueError: If there are no records and start or end is missing, or if end is before start.

    Requirements:
    - pandas
    - datetime

    Example:
    >>> records = [("2024-03-01 08:15", 10), ("2024-03-03 19:40", 5.5), ("2024-03-01 12:00", 2)]
    >>> totals = task_func(records)
    >>> [str(day.date()) for day in totals.index]
    ['2024-03-01', '2024-03-02', '2024-03-03']
    >>> totals.tolist()
    [12.0, 0.0, 5.5]
    """
''',
r'''
    days = []
    amounts = []
    for stamp, amount in records:
        if isinstance(stamp, str):
            stamp = datetime.fromisoformat(stamp)
        days.append(pd.Timestamp(stamp).normalize())
        amounts.append(float(amount))
    if (start is None or end is None) and not days:
        raise ValueError("start and end are required when there are no records")
    first = pd.Timestamp(start).normalize() if start is not None else min(days)
    last = pd.Timestamp(end).normalize() if end is not None else max(days)
    if last < first:
        raise ValueError("end must not be before start")
    index = pd.date_range(first, last, freq="D", name="date")
    per_day = pd.Series(amounts, index=pd.DatetimeIndex(days), dtype=float).groupby(level=0).sum()
    totals = per_day.reindex(index, fill_value=0.0)
    totals.index.name = "date"
    totals.name = "total"
    return totals
''',
r'''
import unittest
import pandas as pd
from datetime import date, datetime

class TestCases(unittest.TestCase):
    def days(self, series):
        return [day.date() for day in series.index]

    def test_gaps_filled_with_zero(self):
        result = task_func([("2024-03-01 08:15", 10), ("2024-03-04 19:40", 5.5)])
        self.assertIsInstance(result, pd.Series)
        self.assertIsInstance(result.index, pd.DatetimeIndex)
        self.assertEqual(self.days(result), [date(2024, 3, d) for d in (1, 2, 3, 4)])
        self.assertEqual(result.tolist(), [10.0, 0.0, 0.0, 5.5])

    def test_same_day_summed(self):
        result = task_func([("2024-03-01 23:59", 1), ("2024-03-01", 2), (datetime(2024, 3, 1, 6), 3)])
        self.assertEqual(self.days(result), [date(2024, 3, 1)])
        self.assertEqual(result.tolist(), [6.0])

    def test_names_and_dtype(self):
        result = task_func([("2024-01-31", 1)])
        self.assertEqual(result.name, "total")
        self.assertEqual(result.index.name, "date")
        self.assertEqual(result.dtype, float)

    def test_explicit_range_extends_and_drops(self):
        records = [("2024-02-28", 1), ("2024-03-01", 2), ("2024-03-05", 100)]
        result = task_func(records, start=date(2024, 2, 27), end=date(2024, 3, 2))
        self.assertEqual(self.days(result), [date(2024, 2, d) for d in (27, 28, 29)] + [date(2024, 3, 1), date(2024, 3, 2)])
        self.assertEqual(result.tolist(), [0.0, 1.0, 0.0, 2.0, 0.0])

    def test_only_one_bound_given(self):
        result = task_func([("2024-03-02", 4), ("2024-03-03", 1)], start=date(2024, 3, 3))
        self.assertEqual(self.days(result), [date(2024, 3, 3)])
        self.assertEqual(result.tolist(), [1.0])

    def test_no_records(self):
        result = task_func([], start=date(2024, 1, 1), end=date(2024, 1, 3))
        self.assertEqual(result.tolist(), [0.0, 0.0, 0.0])
        with self.assertRaises(ValueError):
            task_func([])
        with self.assertRaises(ValueError):
            task_func([], start=date(2024, 1, 1))

    def test_end_before_start_raises(self):
        with self.assertRaises(ValueError):
            task_func([("2024-01-05", 1)], start=date(2024, 1, 5), end=date(2024, 1, 4))
''',
["pandas", "datetime"],
))

# 12: merging JSON configuration files --------------------------------------------------------
_TASKS.append((
r'''
import json
import os

def task_func(config_dir, output_path):
    """
    Merge the JSON configuration files of a directory into one. The regular files directly inside
    config_dir whose names end in ".json" are read in sorted order of their names and merged deeply:
    when a later file sets a key that is an object in both the merged result and the later file, the
    two objects are merged key by key; otherwise the later value replaces the earlier one. The merged
    configuration is written to output_path as JSON with 2-space indentation and sorted keys.

    Parameters:
    - config_dir (str): The directory holding the configuration files.
    - output_path (str): Where to write the merged configuration.

    Returns:
    dict: The merged configuration.

    Raises:
    - FileNotFoundError: If config_dir does not exist.
    - ValueError: If a configuration file is not valid JSON or its top level is not an object.

    Requirements:
    - json
    - os

    Example:
    >>> os.makedirs('conf', exist_ok=True)
    >>> with open('conf/10-base.json', 'w') as f:
    ...     json.dump({"db": {"host": "localhost", "port": 5432}, "debug": False}, f)
    >>> with open('conf/20-local.json', 'w') as f:
    ...     json.dump({"db": {"host": "db.internal"}, "debug": True}, f)
    >>> task_func('conf', 'merged.json')
    {'db': {'host': 'db.internal', 'port': 5432}, 'debug': True}
    """
''',
r'''
    if not os.path.isdir(config_dir):
        raise FileNotFoundError(f"no such directory: {config_dir}")

    def merge(base, extra):
        for key, value in extra.items():
            if isinstance(value, dict) and isinstance(base.get(key), dict):
                merge(base[key], value)
            else:
                base[key] = value

    merged = {}
    for name in sorted(os.listdir(config_dir)):
        path = os.path.join(config_dir, name)
        if not name.endswith(".json") or not os.path.isfile(path):
            continue
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
        if not isinstance(data, dict):
            raise ValueError(f"{name}: the top level must be an object")
        merge(merged, data)
    with open(output_path, "w", encoding="utf-8") as handle:
        json.dump(merged, handle, indent=2, sort_keys=True)
    return merged
''',
r'''
import unittest
import json
import os
import tempfile

class TestCases(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.conf = os.path.join(self.tmp.name, "conf")
        os.mkdir(self.conf)
        self.out = os.path.join(self.tmp.name, "merged.json")

    def tearDown(self):
        self.tmp.cleanup()

    def put(self, name, text):
        with open(os.path.join(self.conf, name), "w") as handle:
            handle.write(text)

    def test_deep_merge_in_name_order(self):
        self.put("b.json", '{"db": {"host": "h2", "opts": {"ssl": true}}, "level": 2}')
        self.put("a.json", '{"db": {"host": "h1", "port": 1, "opts": {"timeout": 5}}, "level": 1, "name": "app"}')
        expected = {"db": {"host": "h2", "port": 1, "opts": {"timeout": 5, "ssl": True}}, "level": 2, "name": "app"}
        self.assertEqual(task_func(self.conf, self.out), expected)

    def test_output_file_format(self):
        self.put("a.json", '{"z": 1, "a": {"y": [1, 2], "b": null}}')
        result = task_func(self.conf, self.out)
        with open(self.out) as handle:
            text = handle.read()
        self.assertEqual(json.loads(text), result)
        self.assertEqual(text, json.dumps(result, indent=2, sort_keys=True))

    def test_type_changes_replace(self):
        self.put("1.json", '{"a": {"x": 1}, "b": 5, "c": [1, 2]}')
        self.put("2.json", '{"a": "flat", "b": {"nested": true}, "c": [3]}')
        self.assertEqual(task_func(self.conf, self.out), {"a": "flat", "b": {"nested": True}, "c": [3]})

    def test_other_files_ignored(self):
        self.put("a.json", '{"k": 1}')
        self.put("notes.txt", "not json at all")
        self.put("b.json.bak", "{broken")
        os.mkdir(os.path.join(self.conf, "dir.json"))
        self.assertEqual(task_func(self.conf, self.out), {"k": 1})

    def test_empty_directory(self):
        self.assertEqual(task_func(self.conf, self.out), {})
        with open(self.out) as handle:
            self.assertEqual(json.load(handle), {})

    def test_invalid_files_raise(self):
        self.put("a.json", "{broken")
        with self.assertRaises(ValueError):
            task_func(self.conf, self.out)
        self.put("a.json", "[1, 2]")
        with self.assertRaises(ValueError):
            task_func(self.conf, self.out)

    def test_missing_directory_raises(self):
        with self.assertRaises(FileNotFoundError):
            task_func(os.path.join(self.tmp.name, "nope"), self.out)
''',
["json", "os"],
))

# 13: CSV to typed JSON -----------------------------------------------------------------------
_TASKS.append((
r'''
import csv
import json
import math
from pathlib import Path

def task_func(csv_path, json_path=None):
    """
    Convert a CSV file with a header row into a JSON array with one object per row, giving each
    field a JSON type: a value that int() accepts becomes an integer; otherwise a value that float()
    accepts and that is finite becomes a float; "true" and "false" in any letter case become
    booleans; an empty or missing field becomes null; anything else stays a string, unchanged.
    The JSON is written with 2-space indentation to json_path or, by default, next to the CSV
    file with its suffix replaced by ".json".

    Parameters:
    - csv_path (str or pathlib.Path): The CSV file to convert.
    - json_path (str or pathlib.Path, optional): Where to write the JSON. Defaults to None.

    Returns:
    tuple: A tuple containing:
        - list of dict: The converted rows, keyed by the header names.
        - pathlib.Path: The path of the written JSON file.

    Raises:
    - FileNotFoundError: If csv_path does not exist.

    Requirements:
    - csv
    - json
    - math
    - pathlib

    Example:
    >>> with open('stock.csv', 'w', newline='') as f:
    ...     csv.writer(f).writerows([['item', 'qty', 'price', 'active', 'note'],
    ...                              ['bolt', '120', '0.25', 'TRUE', ''],
    ...                              ['nut', '80', '0.1', 'false', 'M6']])
    >>> rows, path = task_func('stock.csv')
    >>> rows[0]
    {'item': 'bolt', 'qty': 120, 'price': 0.25, 'active': True, 'note': None}
    >>> path.name
    'stock.json'
    """
''',
r'''
    def convert(text):
        if text is None or text == "":
            return None
        lowered = text.lower()
        if lowered == "true":
            return True
        if lowered == "false":
            return False
        try:
            return int(text)
        except ValueError:
            pass
        try:
            number = float(text)
        except ValueError:
            return text
        return number if math.isfinite(number) else text

    source = Path(csv_path)
    with source.open(newline="") as handle:
        rows = [{key: convert(value) for key, value in row.items()} for row in csv.DictReader(handle)]
    target = Path(json_path) if json_path is not None else source.with_suffix(".json")
    target.write_text(json.dumps(rows, indent=2))
    return rows, target
''',
r'''
import unittest
import json
import os
import tempfile
from pathlib import Path

class TestCases(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = Path(self.tmp.name)

    def tearDown(self):
        self.tmp.cleanup()

    def csv_file(self, text, name="data.csv"):
        path = self.dir / name
        path.write_text(text)
        return path

    def test_type_conversion(self):
        path = self.csv_file("a,b,c,d,e,f\n42,-7,3.5,1e3,True,hello\n")
        rows, _ = task_func(path)
        self.assertEqual(rows, [{"a": 42, "b": -7, "c": 3.5, "d": 1000.0, "e": True, "f": "hello"}])
        self.assertIs(type(rows[0]["a"]), int)
        self.assertIs(type(rows[0]["d"]), float)
        self.assertIs(rows[0]["e"], True)

    def test_nulls_and_non_finite(self):
        path = self.csv_file("a,b,c,d\n,nan,inf,FALSE\nx\n")
        rows, _ = task_func(path)
        self.assertEqual(rows[0], {"a": None, "b": "nan", "c": "inf", "d": False})
        self.assertEqual(rows[1], {"a": "x", "b": None, "c": None, "d": None})

    def test_default_output_path(self):
        path = self.csv_file("n\n1\n2\n", name="numbers.csv")
        rows, out = task_func(str(path))
        self.assertIsInstance(out, Path)
        self.assertEqual(out, self.dir / "numbers.json")
        self.assertEqual(json.loads(out.read_text()), [{"n": 1}, {"n": 2}])

    def test_custom_output_path_and_indent(self):
        path = self.csv_file("k,v\nx,1\n")
        target = self.dir / "out" / "result.json"
        target.parent.mkdir()
        rows, out = task_func(path, target)
        self.assertEqual(Path(out), target)
        self.assertEqual(target.read_text(), json.dumps([{"k": "x", "v": 1}], indent=2))
        self.assertFalse((self.dir / "data.json").exists())

    def test_strings_kept_verbatim(self):
        path = self.csv_file('name,code\n" padded ",007x\n"a, b",yes\n')
        rows, _ = task_func(path)
        self.assertEqual(rows, [{"name": " padded ", "code": "007x"}, {"name": "a, b", "code": "yes"}])

    def test_header_only(self):
        path = self.csv_file("a,b\n")
        rows, out = task_func(path)
        self.assertEqual(rows, [])
        self.assertEqual(json.loads(Path(out).read_text()), [])

    def test_missing_file_raises(self):
        with self.assertRaises(FileNotFoundError):
            task_func(self.dir / "absent.csv")
''',
["csv", "json", "math", "pathlib"],
))

# 14: run-length encoding ---------------------------------------------------------------------
_TASKS.append((
r'''
from itertools import groupby

def task_func(text):
    """
    Compress a string with run-length encoding: each run of one repeated character is written as
    the character followed by the length of the run, and the length is left out when the run is a
    single character. Characters are compared exactly, so "a" and "A" form separate runs. Digits
    would make the encoding ambiguous, so text containing one is rejected.

    Parameters:
    - text (str): The string to compress.

    Returns:
    str: The encoded string.

    Raises:
    - TypeError: If text is not a str.
    - ValueError: If text contains a digit (a character for which str.isdigit() is true).

    Requirements:
    - itertools

    Example:
    >>> task_func("aaabccdddd")
    'a3bc2d4'
    >>> task_func("")
    ''
    """
''',
r'''
    if not isinstance(text, str):
        raise TypeError("text must be a str")
    if any(char.isdigit() for char in text):
        raise ValueError("text must not contain digits")
    parts = []
    for char, run in groupby(text):
        length = sum(1 for _ in run)
        parts.append(char if length == 1 else f"{char}{length}")
    return "".join(parts)
''',
r'''
import unittest

class TestCases(unittest.TestCase):
    def test_example(self):
        self.assertEqual(task_func("aaabccdddd"), "a3bc2d4")

    def test_no_runs(self):
        self.assertEqual(task_func("abcab"), "abcab")

    def test_long_run_and_empty(self):
        self.assertEqual(task_func("x" * 12), "x12")
        self.assertEqual(task_func(""), "")

    def test_case_and_whitespace(self):
        self.assertEqual(task_func("aaAA  !!!"), "a2A2 2!3")

    def test_non_ascii(self):
        self.assertEqual(task_func("\u00e9\u00e9\u00e9-\u00fc"), "\u00e93-\u00fc")

    def test_type_error(self):
        with self.assertRaises(TypeError):
            task_func(b"aaa")
        with self.assertRaises(TypeError):
            task_func(None)

    def test_digits_rejected(self):
        with self.assertRaises(ValueError):
            task_func("abc1")
        with self.assertRaises(ValueError):
            task_func("x\u00b2")
''',
["itertools"],
))

# 15: z-score outliers ------------------------------------------------------------------------
_TASKS.append((
r'''
import numpy as np
import pandas as pd

def task_func(df, column, threshold=3.0):
    """
    Flag outliers of a numeric column by z-score, using the population standard deviation (ddof=0).
    Missing values get a NaN z-score and are never flagged. When the non-missing values have no
    spread at all, every one of them gets a z-score of 0.

    Parameters:
    - df (pandas.DataFrame): The input data; it is not modified.
    - column (str): The numeric column to examine.
    - threshold (float, optional): A value is an outlier when the absolute value of its z-score is strictly greater than this. Defaults to 3.0.

    Returns:
    pandas.DataFrame: A copy of df with two more columns: "zscore" (float) and "is_outlier" (bool).

    Raises:
    - KeyError: If column is not in df.
    - ValueError: If threshold is not positive.

    Requirements:
    - numpy
    - pandas

    Example:
    >>> df = pd.DataFrame({"reading": [10, 11, 9, 10, 50]})
    >>> flagged = task_func(df, "reading", threshold=1.5)
    >>> flagged["is_outlier"].tolist()
    [False, False, False, False, True]
    >>> round(float(flagged["zscore"].iloc[-1]), 3)
    1.998
    """
''',
r'''
    if column not in df.columns:
        raise KeyError(column)
    if threshold <= 0:
        raise ValueError("threshold must be positive")
    result = df.copy()
    values = result[column].astype(float).to_numpy()
    present = ~np.isnan(values)
    zscore = np.full(values.shape, np.nan)
    if present.any():
        kept = values[present]
        spread = kept.std()
        zscore[present] = 0.0 if spread == 0 else (kept - kept.mean()) / spread
    result["zscore"] = zscore
    result["is_outlier"] = np.abs(np.nan_to_num(zscore, nan=0.0)) > threshold
    return result
''',
r'''
import unittest
import numpy as np
import pandas as pd

class TestCases(unittest.TestCase):
    def test_flags_and_scores(self):
        df = pd.DataFrame({"reading": [10, 11, 9, 10, 50]})
        result = task_func(df, "reading", threshold=1.5)
        values = np.array([10, 11, 9, 10, 50], dtype=float)
        expected = (values - values.mean()) / values.std()
        np.testing.assert_allclose(result["zscore"].to_numpy(), expected)
        self.assertEqual(result["is_outlier"].tolist(), [False, False, False, False, True])
        self.assertEqual(result["is_outlier"].dtype, bool)

    def test_default_threshold(self):
        df = pd.DataFrame({"x": [0] * 20 + [100]})
        result = task_func(df, "x")
        self.assertEqual(result["is_outlier"].tolist(), [False] * 20 + [True])
        result = task_func(pd.DataFrame({"x": [1, 2, 3, 4, 100]}), "x")
        self.assertFalse(result["is_outlier"].any())

    def test_threshold_is_strict(self):
        df = pd.DataFrame({"x": [-1, 1]})
        result = task_func(df, "x", threshold=1.0)
        np.testing.assert_allclose(result["zscore"].to_numpy(), [-1.0, 1.0])
        self.assertEqual(result["is_outlier"].tolist(), [False, False])
        self.assertEqual(task_func(df, "x", threshold=0.5)["is_outlier"].tolist(), [True, True])

    def test_constant_column(self):
        result = task_func(pd.DataFrame({"x": [4, 4, 4]}), "x", threshold=0.1)
        np.testing.assert_allclose(result["zscore"].to_numpy(), [0.0, 0.0, 0.0])
        self.assertEqual(result["is_outlier"].tolist(), [False, False, False])

    def test_missing_values(self):
        df = pd.DataFrame({"x": [1.0, np.nan, 3.0], "label": ["a", "b", "c"]})
        result = task_func(df, "x", threshold=0.5)
        z = result["zscore"].to_numpy()
        self.assertTrue(np.isnan(z[1]))
        np.testing.assert_allclose(z[[0, 2]], [-1.0, 1.0])
        self.assertEqual(result["is_outlier"].tolist(), [True, False, True])
        self.assertEqual(result["label"].tolist(), ["a", "b", "c"])

    def test_input_not_modified(self):
        df = pd.DataFrame({"x": [1, 2, 30]})
        result = task_func(df, "x")
        self.assertEqual(list(df.columns), ["x"])
        self.assertEqual(list(result.columns), ["x", "zscore", "is_outlier"])
        self.assertEqual(result["x"].tolist(), [1, 2, 30])

    def test_errors(self):
        df = pd.DataFrame({"x": [1, 2]})
        with self.assertRaises(KeyError):
            task_func(df, "y")
        with self.assertRaises(ValueError):
            task_func(df, "x", threshold=0)
        with self.assertRaises(ValueError):
            task_func(df, "x", threshold=-2)
''',
["numpy", "pandas"],
))

# 16: item pair co-occurrence -----------------------------------------------------------------
_TASKS.append((
r'''
from collections import Counter
from itertools import combinations

def task_func(baskets, top_n=3):
    """
    Count, for each unordered pair of distinct items, how many baskets contain both, and return the
    most common pairs. An item listed more than once in a basket counts once for that basket.

    Parameters:
    - baskets (list of list of str): The baskets, each a list of item names.
    - top_n (int, optional): How many pairs to return. Defaults to 3.

    Returns:
    list of tuple: Up to top_n ((item_a, item_b), count) entries with item_a < item_b, ordered by count (highest first), then by the pair.

    Raises:
    - ValueError: If top_n is negative.

    Requirements:
    - collections
    - itertools

    Example:
    >>> baskets = [["bread", "milk"], ["bread", "butter", "milk"], ["milk", "butter"]]
    >>> task_func(baskets, 2)
    [(('bread', 'milk'), 2), (('butter', 'milk'), 2)]
    """
''',
r'''
    if top_n < 0:
        raise ValueError("top_n must not be negative")
    counts = Counter()
    for basket in baskets:
        for pair in combinations(sorted(set(basket)), 2):
            counts[pair] += 1
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return ranked[:top_n]
''',
r'''
import unittest

class TestCases(unittest.TestCase):
    def setUp(self):
        self.baskets = [["bread", "milk"], ["bread", "butter", "milk"], ["milk", "butter"]]

    def test_example(self):
        self.assertEqual(task_func(self.baskets, 2), [(("bread", "milk"), 2), (("butter", "milk"), 2)])

    def test_all_pairs(self):
        self.assertEqual(task_func(self.baskets, 10),
                         [(("bread", "milk"), 2), (("butter", "milk"), 2), (("bread", "butter"), 1)])

    def test_pairs_are_ordered(self):
        self.assertEqual(task_func([["z", "a"], ["a", "z"]], 1), [(("a", "z"), 2)])

    def test_duplicates_in_basket_count_once(self):
        self.assertEqual(task_func([["x", "x", "y", "y"], ["x", "y"]]), [(("x", "y"), 2)])
        self.assertEqual(task_func([["x", "x"]]), [])

    def test_default_top_n_and_tie_order(self):
        baskets = [["d", "c", "b", "a"]]
        self.assertEqual(task_func(baskets), [(("a", "b"), 1), (("a", "c"), 1), (("a", "d"), 1)])
        baskets = [["y", "x"], ["b", "a"], ["q", "p"], ["q", "p"]]
        self.assertEqual(task_func(baskets), [(("p", "q"), 2), (("a", "b"), 1), (("x", "y"), 1)])

    def test_empty_inputs(self):
        self.assertEqual(task_func([]), [])
        self.assertEqual(task_func([[], ["solo"]]), [])
        self.assertEqual(task_func(self.baskets, 0), [])

    def test_negative_top_n_raises(self):
        with self.assertRaises(ValueError):
            task_func(self.baskets, -1)
''',
["collections", "itertools"],
))

# 17: compact duration parser -----------------------------------------------------------------
_TASKS.append((
r'''
import re
from datetime import timedelta

def task_func(spec):
    """
    Parse a compact duration such as "1h30m", "2d 4h" or "90s" into a datetime.timedelta. A duration
    is one or more parts <number><unit>, where number is a non-negative integer written in digits
    and unit is d (days), h (hours), m (minutes) or s (seconds), in either letter case, with no
    space between number and unit. Each unit may appear at most once, units must come in the order
    d, h, m, s, and whitespace is allowed between parts and around the whole duration.

    Parameters:
    - spec (str): The duration to parse.

    Returns:
    datetime.timedelta: The total duration.

    Raises:
    - ValueError: If spec is empty or is not a valid duration.

    Requirements:
    - re
    - datetime

    Example:
    >>> task_func("1h30m")
    datetime.timedelta(seconds=5400)
    >>> task_func("2D 4h")
    datetime.timedelta(days=2, seconds=14400)
    """
''',
r'''
    pattern = re.compile(
        r"\s*(?:(\d+)d)?\s*(?:(\d+)h)?\s*(?:(\d+)m)?\s*(?:(\d+)s)?\s*", re.IGNORECASE
    )
    match = pattern.fullmatch(spec)
    if match is None or not any(match.groups()):
        raise ValueError(f"invalid duration: {spec!r}")
    days, hours, minutes, seconds = (int(group) if group else 0 for group in match.groups())
    return timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
''',
r'''
import unittest
from datetime import timedelta

class TestCases(unittest.TestCase):
    def test_hours_and_minutes(self):
        self.assertEqual(task_func("1h30m"), timedelta(hours=1, minutes=30))

    def test_all_units_with_spaces(self):
        self.assertEqual(task_func(" 2d 4h 5m 6s "), timedelta(days=2, hours=4, minutes=5, seconds=6))
        self.assertEqual(task_func("1d2h3m4s"), timedelta(days=1, hours=2, minutes=3, seconds=4))

    def test_single_units_not_normalised_away(self):
        self.assertEqual(task_func("90s"), timedelta(seconds=90))
        self.assertEqual(task_func("120m"), timedelta(hours=2))
        self.assertEqual(task_func("3d"), timedelta(days=3))

    def test_case_insensitive(self):
        self.assertEqual(task_func("2D 4H"), timedelta(days=2, hours=4))
        self.assertEqual(task_func("5M"), timedelta(minutes=5))

    def test_zero(self):
        self.assertEqual(task_func("0s"), timedelta(0))
        self.assertEqual(task_func("0h0m"), timedelta(0))

    def test_return_type(self):
        self.assertIsInstance(task_func("1s"), timedelta)

    def test_invalid_raises(self):
        for bad in ["", "   ", "h", "1x", "1h1h", "30m1h", "1.5h", "-1h", "1 h", "1h30", "1 2h"]:
            with self.subTest(spec=bad):
                with self.assertRaises(ValueError):
                    task_func(bad)
''',
["re", "datetime"],
))

RECORDS: tuple[dict[str, str], ...] = tuple(
    _record(number, prompt, solution, test, libs)
    for number, (prompt, solution, test, libs) in enumerate(_TASKS)
)
del _TASKS
