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

__all__ = ["LIB_DOMAINS", "RECORDS"]

#: Domain of each library the mini tasks use, per BigCodeBench's own lib2domain classification.
LIB_DOMAINS: dict[str, str] = {
    "base64": "Cryptography",
    "calendar": "Time",
    "collections": "General",
    "csv": "System",
    "datetime": "Time",
    "decimal": "General",
    "difflib": "General",
    "hashlib": "Cryptography",
    "heapq": "General",
    "hmac": "Cryptography",
    "html": "Network",
    "ipaddress": "Network",
    "itertools": "General",
    "json": "System",
    "math": "Computation",
    "matplotlib": "Visualization",
    "numpy": "Computation",
    "os": "System",
    "pandas": "Computation",
    "pathlib": "System",
    "re": "General",
    "sqlite3": "System",
    "statistics": "Computation",
    "textwrap": "General",
    "urllib": "Network",
    "zipfile": "System",
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

    def test_non_regular_files_skipped(self):
        self.write("real.txt", b"data")
        os.symlink(os.path.join(self.root, "nowhere.txt"), os.path.join(self.root, "dangling.txt"))
        self.assertEqual(task_func(self.root), {"real.txt": hashlib.sha256(b"data").hexdigest()})
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

    def test_all_missing(self):
        result = task_func(pd.DataFrame({"x": [np.nan, np.nan]}), "x")
        self.assertTrue(result["zscore"].isna().all())
        self.assertEqual(result["is_outlier"].tolist(), [False, False])

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

# 18: inventory reorder report from SQLite ----------------------------------------------------
_TASKS.append((
r'''
import sqlite3
from pathlib import Path

def task_func(db_path, category=None):
    """
    List the products that need reordering, from an inventory kept in an SQLite database. The
    database has a table "products" with the columns sku (TEXT), category (TEXT), quantity
    (INTEGER) and reorder_level (INTEGER). A product needs reordering when its quantity is below
    its reorder level, and its shortfall is reorder_level - quantity; products with a missing
    quantity or reorder level are skipped. The database is opened read-only and never changed.

    Parameters:
    - db_path (str or pathlib.Path): Path to the SQLite database file.
    - category (str, optional): Only consider products of this category. Defaults to None (all categories).

    Returns:
    list of tuple: (sku, shortfall) pairs, the largest shortfall first; equal shortfalls are ordered by sku.

    Raises:
    - FileNotFoundError: If db_path does not exist.
    - ValueError: If the database has no "products" table.

    Requirements:
    - sqlite3
    - pathlib

    Example:
    >>> conn = sqlite3.connect('shop.db')
    >>> _ = conn.execute('CREATE TABLE products (sku TEXT, category TEXT, quantity INTEGER, reorder_level INTEGER)')
    >>> _ = conn.executemany('INSERT INTO products VALUES (?, ?, ?, ?)',
    ...                      [('B-7', 'paint', 0, 3), ('A-1', 'tools', 2, 5), ('C-3', 'tools', 9, 4)])
    >>> conn.commit()
    >>> conn.close()
    >>> task_func('shop.db')
    [('A-1', 3), ('B-7', 3)]
    >>> task_func('shop.db', category='paint')
    [('B-7', 3)]
    """
''',
r'''
    path = Path(db_path)
    if not path.is_file():
        raise FileNotFoundError(f"no such database: {db_path}")
    conn = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True)
    try:
        table = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'products'"
        ).fetchone()
        if table is None:
            raise ValueError("the database has no products table")
        query = "SELECT sku, reorder_level - quantity FROM products WHERE quantity < reorder_level"
        params = ()
        if category is not None:
            query += " AND category = ?"
            params = (category,)
        rows = conn.execute(query + " ORDER BY 2 DESC, sku", params).fetchall()
    finally:
        conn.close()
    return rows
''',
r'''
import unittest
import os
import sqlite3
import tempfile

class TestCases(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.db = os.path.join(self.tmp.name, "inventory.db")
        self.make(self.db, [
            ("S-10", "screws", 50, 200),
            ("N-02", "nails", 0, 100),
            ("B-01", "bolts", 12, 10),
            ("N-01", "nails", 10, 10),
            ("W-05", "washers", 1, 151),
            ("S-11", "screws", 5, 20),
            ("X-99", "misc", None, 5),
            ("Y-98", "misc", 3, None),
        ])

    def tearDown(self):
        self.tmp.cleanup()

    def make(self, path, rows):
        conn = sqlite3.connect(path)
        conn.execute("CREATE TABLE products (sku TEXT, category TEXT, quantity INTEGER, reorder_level INTEGER)")
        conn.executemany("INSERT INTO products VALUES (?, ?, ?, ?)", rows)
        conn.commit()
        conn.close()

    def test_all_categories(self):
        self.assertEqual(task_func(self.db), [("S-10", 150), ("W-05", 150), ("N-02", 100), ("S-11", 15)])

    def test_category_filter(self):
        self.assertEqual(task_func(self.db, category="screws"), [("S-10", 150), ("S-11", 15)])
        self.assertEqual(task_func(self.db, category="bolts"), [])
        self.assertEqual(task_func(self.db, category="unknown"), [])

    def test_at_reorder_level_and_missing_values_skipped(self):
        skus = [sku for sku, _ in task_func(self.db)]
        self.assertNotIn("N-01", skus)
        self.assertNotIn("X-99", skus)
        self.assertNotIn("Y-98", skus)

    def test_result_types_and_path_object(self):
        from pathlib import Path
        result = task_func(Path(self.db), "nails")
        self.assertEqual(result, [("N-02", 100)])
        self.assertIsInstance(result[0], tuple)
        self.assertIs(type(result[0][1]), int)

    def test_database_not_modified(self):
        with open(self.db, "rb") as handle:
            before = handle.read()
        task_func(self.db)
        with open(self.db, "rb") as handle:
            self.assertEqual(handle.read(), before)
        self.assertEqual(sorted(os.listdir(self.tmp.name)), ["inventory.db"])

    def test_empty_table(self):
        path = os.path.join(self.tmp.name, "empty.db")
        self.make(path, [])
        self.assertEqual(task_func(path), [])

    def test_missing_table_raises(self):
        path = os.path.join(self.tmp.name, "other.db")
        conn = sqlite3.connect(path)
        conn.execute("CREATE TABLE items (sku TEXT)")
        conn.commit()
        conn.close()
        with self.assertRaises(ValueError):
            task_func(path)

    def test_missing_file_raises(self):
        with self.assertRaises(FileNotFoundError):
            task_func(os.path.join(self.tmp.name, "absent.db"))
        self.assertFalse(os.path.exists(os.path.join(self.tmp.name, "absent.db")))
''',
["sqlite3", "pathlib"],
))

# 19: ZIP bundle with a manifest --------------------------------------------------------------
_TASKS.append((
r'''
import json
import hashlib
import zipfile

def task_func(files, zip_path):
    """
    Package text files into a ZIP archive together with a manifest, so that the receiver can check
    that nothing was lost or altered. Each entry of files becomes a member of the archive, encoded
    as UTF-8 and compressed with DEFLATE; members are written in sorted name order, followed by a
    member named "MANIFEST.json": a JSON object, keys sorted, that maps each member name to its
    size in bytes and its SHA-256 hex digest. Member names use forward slashes and must be
    relative paths that stay inside the archive. All names are checked before anything is written.

    Parameters:
    - files (dict): Maps member names (str) to their text content (str).
    - zip_path (str): Where to write the archive; an existing file is replaced.

    Returns:
    dict: The manifest, {name: {"sha256": str, "size": int}}, in sorted name order.

    Raises:
    - ValueError: If a name is empty, starts or ends with "/", contains a backslash or a ".." component, or is "MANIFEST.json".

    Requirements:
    - json
    - hashlib
    - zipfile

    Example:
    >>> manifest = task_func({"notes/a.txt": "hi", "b.txt": ""}, "bundle.zip")
    >>> manifest["notes/a.txt"]["size"], manifest["b.txt"]["sha256"][:12]
    (2, 'e3b0c44298fc')
    >>> with zipfile.ZipFile("bundle.zip") as archive:
    ...     archive.namelist()
    ['b.txt', 'notes/a.txt', 'MANIFEST.json']
    """
''',
r'''
    for name in files:
        if (not name or name.startswith("/") or name.endswith("/") or "\\" in name
                or ".." in name.split("/") or name == "MANIFEST.json"):
            raise ValueError(f"invalid member name: {name!r}")
    manifest = {}
    with zipfile.ZipFile(zip_path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            data = files[name].encode("utf-8")
            archive.writestr(name, data)
            manifest[name] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
        archive.writestr("MANIFEST.json", json.dumps(manifest, indent=2, sort_keys=True))
    return manifest
''',
r'''
import unittest
import hashlib
import json
import os
import tempfile
import zipfile

class TestCases(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.path = os.path.join(self.tmp.name, "out.zip")

    def tearDown(self):
        self.tmp.cleanup()

    def test_members_and_content(self):
        files = {"z.txt": "last", "docs/readme.md": "# Title\n", "a.csv": "x,y\n1,2\n"}
        task_func(files, self.path)
        with zipfile.ZipFile(self.path) as archive:
            self.assertEqual(archive.namelist(), ["a.csv", "docs/readme.md", "z.txt", "MANIFEST.json"])
            for name, text in files.items():
                self.assertEqual(archive.read(name).decode("utf-8"), text)
                self.assertEqual(archive.getinfo(name).compress_type, zipfile.ZIP_DEFLATED)

    def test_manifest_returned_and_stored(self):
        files = {"b.txt": "beta", "a.txt": "alpha"}
        manifest = task_func(files, self.path)
        self.assertEqual(list(manifest), ["a.txt", "b.txt"])
        self.assertEqual(manifest["a.txt"], {"sha256": hashlib.sha256(b"alpha").hexdigest(), "size": 5})
        with zipfile.ZipFile(self.path) as archive:
            stored = json.loads(archive.read("MANIFEST.json"))
        self.assertEqual(stored, manifest)

    def test_sizes_are_utf8_bytes(self):
        manifest = task_func({"caf\u00e9.txt": "caf\u00e9 \u2615"}, self.path)
        data = "caf\u00e9 \u2615".encode("utf-8")
        self.assertEqual(manifest["caf\u00e9.txt"], {"sha256": hashlib.sha256(data).hexdigest(), "size": 9})

    def test_empty_bundle(self):
        self.assertEqual(task_func({}, self.path), {})
        with zipfile.ZipFile(self.path) as archive:
            self.assertEqual(archive.namelist(), ["MANIFEST.json"])
            self.assertEqual(json.loads(archive.read("MANIFEST.json")), {})

    def test_existing_archive_replaced(self):
        task_func({"old.txt": "old"}, self.path)
        task_func({"new.txt": "new"}, self.path)
        with zipfile.ZipFile(self.path) as archive:
            self.assertEqual(archive.namelist(), ["new.txt", "MANIFEST.json"])

    def test_invalid_names_raise_before_writing(self):
        for bad in ["", "/etc/passwd", "dir/", "a\\b.txt", "../up.txt", "a/../../b", "MANIFEST.json"]:
            with self.subTest(name=bad):
                with self.assertRaises(ValueError):
                    task_func({"fine.txt": "ok", bad: "x"}, self.path)
                self.assertFalse(os.path.exists(self.path))

    def test_dots_inside_names_allowed(self):
        manifest = task_func({"v1..2/notes.txt": "n", ".hidden": "h"}, self.path)
        self.assertEqual(list(manifest), [".hidden", "v1..2/notes.txt"])
''',
["json", "hashlib", "zipfile"],
))

# 20: descriptive statistics ------------------------------------------------------------------
_TASKS.append((
r'''
import statistics

def task_func(values):
    """
    Describe a sample of measurements as a lab report does: how many there are, their mean and
    median, the sample standard deviation, the first and third quartiles and the most common
    values. Quartiles use the "inclusive" method of statistics.quantiles (the one spreadsheets
    call QUARTILE.INC). None entries stand for missing measurements and are ignored.

    Parameters:
    - values (list of int or float or None): The measurements.

    Returns:
    dict: With keys "count" (int), "mean", "median", "stdev", "q1" and "q3" (float), and "modes" (the values that occur most often, sorted; an empty list when no value occurs more than once).

    Raises:
    - ValueError: If fewer than two measurements are present.

    Requirements:
    - statistics

    Example:
    >>> summary = task_func([2, 4, 4, None, 4, 5, 5, 7, 9])
    >>> summary["count"], summary["mean"], summary["median"], summary["q1"], summary["q3"], summary["modes"]
    (8, 5.0, 4.5, 4.0, 5.5, [4])
    >>> round(summary["stdev"], 3)
    2.138
    """
''',
r'''
    present = [value for value in values if value is not None]
    if len(present) < 2:
        raise ValueError("at least two measurements are needed")
    q1, _, q3 = statistics.quantiles(present, n=4, method="inclusive")
    modes = sorted(statistics.multimode(present))
    if len(modes) == len(present):
        modes = []
    return {
        "count": len(present),
        "mean": float(statistics.mean(present)),
        "median": float(statistics.median(present)),
        "stdev": float(statistics.stdev(present)),
        "q1": float(q1),
        "q3": float(q3),
        "modes": modes,
    }
''',
r'''
import unittest
import math

class TestCases(unittest.TestCase):
    def test_example(self):
        summary = task_func([2, 4, 4, None, 4, 5, 5, 7, 9])
        self.assertEqual(set(summary), {"count", "mean", "median", "stdev", "q1", "q3", "modes"})
        self.assertEqual(summary["count"], 8)
        self.assertEqual((summary["mean"], summary["median"], summary["q1"], summary["q3"]), (5.0, 4.5, 4.0, 5.5))
        self.assertAlmostEqual(summary["stdev"], math.sqrt(32 / 7))
        self.assertEqual(summary["modes"], [4])

    def test_types_are_floats(self):
        summary = task_func([1, 2, 3])
        for key in ("mean", "median", "stdev", "q1", "q3"):
            self.assertIs(type(summary[key]), float, key)
        self.assertIs(type(summary["count"]), int)
        self.assertEqual((summary["median"], summary["q1"], summary["q3"]), (2.0, 1.5, 2.5))

    def test_inclusive_quartiles(self):
        summary = task_func([10, 20, 30, 40, 50, 60])
        self.assertAlmostEqual(summary["q1"], 22.5)
        self.assertAlmostEqual(summary["q3"], 47.5)
        self.assertAlmostEqual(summary["median"], 35.0)

    def test_several_modes_and_no_mode(self):
        self.assertEqual(task_func([3, 1, 3, 1, 2])["modes"], [1, 3])
        self.assertEqual(task_func([5.5, 1.5, 2.5])["modes"], [])

    def test_constant_sample(self):
        summary = task_func([7, 7, None, 7])
        self.assertEqual(summary["stdev"], 0.0)
        self.assertEqual(summary["modes"], [7])
        self.assertEqual((summary["q1"], summary["q3"]), (7.0, 7.0))

    def test_floats_and_negatives(self):
        summary = task_func([-1.5, 0.5, 2.5])
        self.assertAlmostEqual(summary["mean"], 0.5)
        self.assertAlmostEqual(summary["stdev"], 2.0)

    def test_too_few_values_raise(self):
        for bad in ([], [1], [None, 3, None]):
            with self.subTest(values=bad):
                with self.assertRaises(ValueError):
                    task_func(bad)
''',
["statistics"],
))

# 21: reflowing paragraphs and bullet lists ---------------------------------------------------
_TASKS.append((
r'''
import re
import textwrap

def task_func(text, width=70):
    """
    Reflow plain text to a maximum line width, keeping its paragraphs and bullet lists.
    Paragraphs are separated by one or more blank lines (a line of only spaces or tabs is blank)
    and are written back separated by exactly one empty line. Within a paragraph, line breaks and
    runs of whitespace collapse to single spaces and the words are wrapped to width. A paragraph
    whose first line starts with "- " (after any indentation) is a bullet list: each line starting
    with "- " begins an item, other lines continue the current item, and each item is wrapped on
    its own with its continuation lines indented by two spaces. Words are never broken, even when
    longer than width, and never split at hyphens.

    Parameters:
    - text (str): The text to reflow.
    - width (int, optional): The maximum line length. Defaults to 70.

    Returns:
    str: The reflowed text, without leading or trailing blank lines; an empty string for text with no words.

    Raises:
    - ValueError: If width is less than 8.

    Requirements:
    - re
    - textwrap

    Example:
    >>> print(task_func("Short lines\\nare joined   into one.\\n\\n\\n- first item\\n- second item that is long", 20))
    Short lines are
    joined into one.
    <BLANKLINE>
    - first item
    - second item that
      is long
    """
''',
r'''
    if width < 8:
        raise ValueError("width must be at least 8")
    options = {"width": width, "break_long_words": False, "break_on_hyphens": False}
    blocks = []
    for paragraph in re.split(r"\n[ \t]*(?:\n[ \t]*)+", text.strip()):
        if not paragraph.strip():
            continue
        lines = paragraph.strip().splitlines()
        if lines[0].startswith("- "):
            items = []
            for line in lines:
                line = line.strip()
                if line.startswith("- "):
                    items.append(line[2:])
                else:
                    items[-1] += " " + line
            blocks.append("\n".join(
                textwrap.fill(" ".join(item.split()), initial_indent="- ", subsequent_indent="  ", **options)
                for item in items
            ))
        else:
            blocks.append(textwrap.fill(" ".join(paragraph.split()), **options))
    return "\n\n".join(blocks)
''',
r'''
import unittest

class TestCases(unittest.TestCase):
    def test_example(self):
        text = "Short lines\nare joined   into one.\n\n\n- first item\n- second item that is long"
        self.assertEqual(task_func(text, 20), "Short lines are\njoined into one.\n\n- first item\n- second item that\n  is long")

    def test_lines_fit_width(self):
        words = " ".join(f"word{i}" for i in range(60))
        result = task_func(words, 30)
        self.assertTrue(all(len(line) <= 30 for line in result.splitlines()))
        self.assertEqual(result.split(), words.split())
        self.assertEqual(task_func(words), task_func(words, 70))
        self.assertTrue(max(len(line) for line in task_func(words).splitlines()) > 60)

    def test_paragraph_separators(self):
        text = "\n\n  one\n \t \n\n\ntwo  lines\nhere\n\n \nthree\n\n"
        self.assertEqual(task_func(text, 40), "one\n\ntwo lines here\n\nthree")

    def test_bullet_continuation_lines(self):
        text = "- alpha beta\n  gamma delta epsilon\n- zeta\n  - eta"
        self.assertEqual(task_func(text, 14), "- alpha beta\n  gamma delta\n  epsilon\n- zeta\n- eta")

    def test_dash_inside_paragraph_is_text(self):
        self.assertEqual(task_func("intro line\n- not a bullet", 40), "intro line - not a bullet")

    def test_long_words_and_hyphens_kept(self):
        result = task_func("a supercalifragilistic well-known word", 10)
        self.assertEqual(result, "a\nsupercalifragilistic\nwell-known\nword")

    def test_no_words(self):
        self.assertEqual(task_func(""), "")
        self.assertEqual(task_func(" \n\n\t\n"), "")

    def test_small_width_raises(self):
        with self.assertRaises(ValueError):
            task_func("text", 7)
        self.assertEqual(task_func("abc def", 8), "abc def")
''',
["re", "textwrap"],
))

# 22: IPv4 addresses per subnet ---------------------------------------------------------------
_TASKS.append((
r'''
import ipaddress
from collections import Counter

def task_func(addresses, prefix=24):
    """
    Count IPv4 addresses per subnet, for example to see which networks a server's clients come
    from. Each address is placed in the network of the given prefix length that contains it.
    Surrounding whitespace is ignored. Entries that are not IPv4 addresses (IPv6 addresses,
    networks such as "10.0.0.0/8", octets with leading zeros, anything else) do not stop the
    count: they are returned separately.

    Parameters:
    - addresses (list of str): The addresses, such as "192.168.1.17".
    - prefix (int, optional): The prefix length of the subnets, from 0 to 32. Defaults to 24.

    Returns:
    tuple: A tuple containing:
        - collections.Counter: Maps each subnet in CIDR notation (such as "192.168.1.0/24") to how many of the addresses fall in it.
        - list of str: The rejected entries, as given, in input order.

    Raises:
    - ValueError: If prefix is not an int from 0 to 32.

    Requirements:
    - ipaddress
    - collections

    Example:
    >>> counts, rejected = task_func(["10.0.0.5", "10.0.0.99", "10.0.1.1", "nonsense", "::1"])
    >>> counts
    Counter({'10.0.0.0/24': 2, '10.0.1.0/24': 1})
    >>> rejected
    ['nonsense', '::1']
    """
''',
r'''
    if isinstance(prefix, bool) or not isinstance(prefix, int) or not 0 <= prefix <= 32:
        raise ValueError("prefix must be an int from 0 to 32")
    counts = Counter()
    rejected = []
    for entry in addresses:
        try:
            address = ipaddress.IPv4Address(entry.strip())
        except ipaddress.AddressValueError:
            rejected.append(entry)
            continue
        network = ipaddress.IPv4Network(f"{address}/{prefix}", strict=False)
        counts[str(network)] += 1
    return counts, rejected
''',
r'''
import unittest
from collections import Counter

class TestCases(unittest.TestCase):
    def test_example(self):
        counts, rejected = task_func(["10.0.0.5", "10.0.0.99", "10.0.1.1", "nonsense", "::1"])
        self.assertIsInstance(counts, Counter)
        self.assertEqual(counts, Counter({"10.0.0.0/24": 2, "10.0.1.0/24": 1}))
        self.assertEqual(rejected, ["nonsense", "::1"])

    def test_other_prefixes(self):
        addresses = ["192.168.1.17", "192.168.200.3", "192.169.0.1"]
        self.assertEqual(task_func(addresses, 16)[0], Counter({"192.168.0.0/16": 2, "192.169.0.0/16": 1}))
        self.assertEqual(task_func(addresses, 8)[0], Counter({"192.0.0.0/8": 3}))
        self.assertEqual(task_func(addresses, 0)[0], Counter({"0.0.0.0/0": 3}))
        self.assertEqual(task_func(["1.2.3.4", "1.2.3.4"], 32)[0], Counter({"1.2.3.4/32": 2}))
        self.assertEqual(task_func(["172.16.5.130"], 25)[0], Counter({"172.16.5.128/25": 1}))

    def test_whitespace_ignored_but_rejects_kept_verbatim(self):
        counts, rejected = task_func(["  8.8.8.8\n", " bad "])
        self.assertEqual(counts, Counter({"8.8.8.0/24": 1}))
        self.assertEqual(rejected, [" bad "])

    def test_rejections(self):
        bad = ["", "256.1.1.1", "1.2.3", "10.0.0.0/8", "010.0.0.1", "fe80::1", "1.2.3.4.5"]
        counts, rejected = task_func(bad + ["127.0.0.1"])
        self.assertEqual(rejected, bad)
        self.assertEqual(counts, Counter({"127.0.0.0/24": 1}))

    def test_empty_input(self):
        self.assertEqual(task_func([]), (Counter(), []))

    def test_invalid_prefix_raises(self):
        for prefix in (33, -1, "24", 8.0, True):
            with self.subTest(prefix=prefix):
                with self.assertRaises(ValueError):
                    task_func(["10.0.0.1"], prefix)
''',
["ipaddress", "collections"],
))

# 23: URL canonicalisation --------------------------------------------------------------------
_TASKS.append((
r'''
from urllib.parse import urlsplit, urlunsplit, parse_qsl, urlencode

def task_func(url):
    """
    Canonicalise an http or https URL so that different spellings of the same page compare equal,
    for example before counting visits per page. The scheme and host are lower-cased, user
    credentials are dropped, the default port (80 for http, 443 for https) is removed, an empty
    path becomes "/", the fragment is dropped, and tracking parameters (any whose name starts
    with "utm_", and "fbclid" and "gclid", in any letter case) are removed from the query. The
    remaining query parameters, blank values included, are sorted by name and then value and
    encoded again in the standard form (spaces as "+"). The path keeps its case.

    Parameters:
    - url (str): The URL; surrounding whitespace is ignored.

    Returns:
    str: The canonical URL.

    Raises:
    - ValueError: If url is not an absolute http or https URL with a host, or its port is invalid.

    Requirements:
    - urllib.parse

    Example:
    >>> task_func("HTTPS://Example.COM:443/Shop?b=2&utm_source=news&a=1#top")
    'https://example.com/Shop?a=1&b=2'
    >>> task_func("http://example.com:8080")
    'http://example.com:8080/'
    """
''',
r'''
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an absolute http(s) URL: {url!r}")
    host = parts.hostname
    port = parts.port
    if port is not None and port != {"http": 80, "https": 443}[scheme]:
        host = f"{host}:{port}"
    query = [
        (name, value)
        for name, value in parse_qsl(parts.query, keep_blank_values=True)
        if not name.lower().startswith("utm_") and name.lower() not in ("fbclid", "gclid")
    ]
    return urlunsplit((scheme, host, parts.path or "/", urlencode(sorted(query)), ""))
''',
r'''
import unittest

class TestCases(unittest.TestCase):
    def test_example(self):
        self.assertEqual(task_func("HTTPS://Example.COM:443/Shop?b=2&utm_source=news&a=1#top"), "https://example.com/Shop?a=1&b=2")

    def test_ports(self):
        self.assertEqual(task_func("http://example.com:8080"), "http://example.com:8080/")
        self.assertEqual(task_func("http://example.com:80/a"), "http://example.com/a")
        self.assertEqual(task_func("https://example.com:80/a"), "https://example.com:80/a")
        self.assertEqual(task_func("http://example.com:443/"), "http://example.com:443/")

    def test_tracking_parameters_removed(self):
        url = "https://shop.example/item?id=7&UTM_Campaign=x&fbclid=abc&GCLID=1&utm=keep&ref=home"
        self.assertEqual(task_func(url), "https://shop.example/item?id=7&ref=home&utm=keep")
        self.assertEqual(task_func("https://a.example/?utm_source=x"), "https://a.example/")

    def test_query_sorting_and_encoding(self):
        url = "http://a.example/s?q=hello%20world&b=2&b=1&empty=&a=x+y"
        self.assertEqual(task_func(url), "http://a.example/s?a=x+y&b=1&b=2&empty=&q=hello+world")

    def test_credentials_fragment_and_path_case(self):
        self.assertEqual(task_func("  http://user:pw@WWW.Example.org/Docs/Index.HTML#part2 \n"), "http://www.example.org/Docs/Index.HTML")

    def test_equivalent_spellings_match(self):
        spellings = [
            "https://example.com/p?x=1&y=2",
            "HTTPS://EXAMPLE.com:443/p?y=2&x=1&utm_medium=mail",
            "https://example.com/p?x=1&y=2#comments",
        ]
        self.assertEqual(len({task_func(url) for url in spellings}), 1)

    def test_invalid_urls_raise(self):
        for bad in ["ftp://example.com/file", "example.com/page", "/relative/path", "http://", "mailto:a@b.c", "http://example.com:99999/", "http://example.com:port/"]:
            with self.subTest(url=bad):
                with self.assertRaises(ValueError):
                    task_func(bad)
''',
["urllib"],
))
# 24: monthly report per group ----------------------------------------------------------------
_TASKS.append((
r'''
import pandas as pd

def task_func(df, date_col="date", group_col="region", value_col="amount"):
    """
    Turn a table of transactions into a month-by-group report, as used for a sales dashboard: one
    row per calendar month, labelled "YYYY-MM", from the earliest to the latest month in the data
    with no month skipped; one column per group, in ascending order; each cell the sum of
    value_col over that month and group, 0 where there was nothing. Dates are "YYYY-MM-DD"
    strings; rows whose date is missing or cannot be parsed are left out.

    Parameters:
    - df (pandas.DataFrame): The transactions; it is not modified.
    - date_col (str, optional): The column holding the dates. Defaults to "date".
    - group_col (str, optional): The column holding the group labels. Defaults to "region".
    - value_col (str, optional): The numeric column to add up. Defaults to "amount".

    Returns:
    pandas.DataFrame: The report, its index named "month" and holding the "YYYY-MM" labels, its columns the group labels.

    Raises:
    - KeyError: If any of the three columns is missing.
    - ValueError: If no row has a valid date.

    Requirements:
    - pandas

    Example:
    >>> df = pd.DataFrame({"date": ["2024-01-15", "2024-03-02", "2024-01-20", "not a date"],
    ...                    "region": ["north", "south", "north", "north"],
    ...                    "amount": [100, 40, 25, 999]})
    >>> report = task_func(df)
    >>> list(report.index), list(report.columns)
    (['2024-01', '2024-02', '2024-03'], ['north', 'south'])
    >>> report.loc["2024-01"].tolist(), report["south"].tolist()
    ([125, 0], [0, 0, 40])
    """
''',
r'''
    missing = [col for col in (date_col, group_col, value_col) if col not in df.columns]
    if missing:
        raise KeyError(f"missing columns: {missing}")
    dates = pd.to_datetime(df[date_col], format="%Y-%m-%d", errors="coerce")
    data = df.loc[dates.notna(), [group_col, value_col]].copy()
    if data.empty:
        raise ValueError("no row has a valid date")
    data["month"] = dates[dates.notna()].dt.to_period("M")
    table = data.pivot_table(index="month", columns=group_col, values=value_col, aggfunc="sum", fill_value=0)
    months = pd.period_range(table.index.min(), table.index.max(), freq="M")
    table = table.reindex(months, fill_value=0).sort_index(axis=1)
    table.index = pd.Index(months.strftime("%Y-%m"), name="month")
    table.columns = list(table.columns)
    return table
''',
r'''
import unittest
import pandas as pd

class TestCases(unittest.TestCase):
    def setUp(self):
        self.df = pd.DataFrame({
            "date": ["2024-01-15", "2024-03-02", "2024-01-20", "not a date", None, "2024-04-31"],
            "region": ["north", "south", "north", "north", "south", "east"],
            "amount": [100, 40, 25, 999, 999, 999],
        })

    def test_example(self):
        report = task_func(self.df)
        self.assertIsInstance(report, pd.DataFrame)
        self.assertEqual(list(report.index), ["2024-01", "2024-02", "2024-03"])
        self.assertEqual(report.index.name, "month")
        self.assertEqual(list(report.columns), ["north", "south"])
        self.assertEqual(report.to_dict("list"), {"north": [125, 0, 0], "south": [0, 0, 40]})

    def test_gap_months_across_year_end(self):
        df = pd.DataFrame({"date": ["2023-11-30", "2024-02-01"], "region": ["a", "a"], "amount": [1.5, 2.25]})
        report = task_func(df)
        self.assertEqual(list(report.index), ["2023-11", "2023-12", "2024-01", "2024-02"])
        self.assertEqual(report["a"].tolist(), [1.5, 0.0, 0.0, 2.25])

    def test_custom_columns_and_group_order(self):
        df = pd.DataFrame({
            "day": ["2024-05-01", "2024-05-09", "2024-05-31", "2024-06-01"],
            "shop": ["zeta", "alpha", "zeta", "mid"],
            "sales": [1, 2, 3, 4],
        })
        report = task_func(df, date_col="day", group_col="shop", value_col="sales")
        self.assertEqual(list(report.columns), ["alpha", "mid", "zeta"])
        self.assertEqual(report.loc["2024-05"].tolist(), [2, 0, 4])
        self.assertEqual(report.loc["2024-06"].tolist(), [0, 4, 0])

    def test_single_month(self):
        df = pd.DataFrame({"date": ["2024-07-04"], "region": ["x"], "amount": [9]})
        report = task_func(df)
        self.assertEqual(report.shape, (1, 1))
        self.assertEqual(report.loc["2024-07", "x"], 9)

    def test_input_not_modified(self):
        before = self.df.copy()
        task_func(self.df)
        pd.testing.assert_frame_equal(self.df, before)

    def test_missing_column_raises(self):
        with self.assertRaises(KeyError):
            task_func(self.df, value_col="price")
        with self.assertRaises(KeyError):
            task_func(self.df.drop(columns=["date"]))

    def test_no_valid_dates_raises(self):
        df = pd.DataFrame({"date": ["2024/01/01", "soon"], "region": ["a", "b"], "amount": [1, 2]})
        with self.assertRaises(ValueError):
            task_func(df)
''',
["pandas"],
))

# 25: least-squares line with a plot ----------------------------------------------------------
_TASKS.append((
r'''
import numpy as np
import matplotlib.pyplot as plt

def task_func(x, y, title="Linear fit"):
    """
    Fit a straight line y = slope * x + intercept to paired measurements by least squares, say how
    well it fits, and plot the measurements with the fitted line, as when calibrating a sensor.

    Parameters:
    - x (array-like): The one-dimensional independent values.
    - y (array-like): The measured values, one per x value.
    - title (str, optional): The plot title. Defaults to "Linear fit".

    Returns:
    tuple: A tuple containing:
        - float: The slope.
        - float: The intercept.
        - float: The coefficient of determination R^2 (1.0 when all y values are equal, since the line then fits exactly).
        - matplotlib.axes.Axes: A scatter plot of the points (label "data") and the fitted line drawn from the smallest to the largest x (label "fit"), with a legend, the title and the axis labels "x" and "y".

    Raises:
    - ValueError: If x is not one-dimensional, x and y differ in shape, or there are fewer than two distinct x values.

    Requirements:
    - numpy
    - matplotlib.pyplot

    Example:
    >>> slope, intercept, r2, ax = task_func([0, 1, 2, 3], [1, 3, 5, 7])
    >>> round(slope, 6), round(intercept, 6), round(r2, 6)
    (2.0, 1.0, 1.0)
    >>> ax.get_title(), [line.get_label() for line in ax.get_lines()]
    ('Linear fit', ['fit'])
    """
''',
r'''
    xs = np.asarray(x, dtype=float)
    ys = np.asarray(y, dtype=float)
    if xs.ndim != 1 or xs.shape != ys.shape:
        raise ValueError("x and y must be one-dimensional and of the same length")
    if np.unique(xs).size < 2:
        raise ValueError("at least two distinct x values are needed")
    slope, intercept = np.polyfit(xs, ys, 1)
    residual = np.sum((ys - (slope * xs + intercept)) ** 2)
    total = np.sum((ys - ys.mean()) ** 2)
    r_squared = 1.0 if total == 0 else 1.0 - residual / total
    fig, ax = plt.subplots()
    ax.scatter(xs, ys, label="data")
    ends = np.array([xs.min(), xs.max()])
    ax.plot(ends, slope * ends + intercept, color="tab:red", label="fit")
    ax.set_title(title)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.legend()
    return float(slope), float(intercept), float(r_squared), ax
''',
r'''
import unittest
import numpy as np
import matplotlib
import matplotlib.pyplot as plt

class TestCases(unittest.TestCase):
    def tearDown(self):
        plt.close("all")

    def test_exact_line(self):
        slope, intercept, r2, _ = task_func([0, 1, 2, 3], [1, 3, 5, 7])
        self.assertAlmostEqual(slope, 2.0)
        self.assertAlmostEqual(intercept, 1.0)
        self.assertAlmostEqual(r2, 1.0)
        for value in (slope, intercept, r2):
            self.assertIs(type(value), float)

    def test_noisy_fit_matches_formula(self):
        x = np.array([1.0, 2.0, 4.0, 5.0, 7.0])
        y = np.array([2.1, 3.9, 8.2, 9.8, 14.5])
        slope, intercept, r2, _ = task_func(x, y)
        expected_slope = np.sum((x - x.mean()) * (y - y.mean())) / np.sum((x - x.mean()) ** 2)
        self.assertAlmostEqual(slope, expected_slope)
        self.assertAlmostEqual(intercept, y.mean() - expected_slope * x.mean())
        self.assertAlmostEqual(r2, np.corrcoef(x, y)[0, 1] ** 2)
        self.assertLess(r2, 1.0)

    def test_constant_y(self):
        slope, intercept, r2, _ = task_func([1, 2, 3], [4, 4, 4])
        self.assertAlmostEqual(slope, 0.0)
        self.assertAlmostEqual(intercept, 4.0)
        self.assertEqual(r2, 1.0)

    def test_plot_contents(self):
        _, _, _, ax = task_func([3, 1, 2], [6, 2, 4.5], title="Sensor 7")
        self.assertIsInstance(ax, matplotlib.axes.Axes)
        self.assertEqual(ax.get_title(), "Sensor 7")
        self.assertEqual((ax.get_xlabel(), ax.get_ylabel()), ("x", "y"))
        (line,) = ax.get_lines()
        self.assertEqual(line.get_label(), "fit")
        np.testing.assert_allclose(line.get_xdata(), [1.0, 3.0])
        np.testing.assert_allclose(ax.collections[0].get_offsets(), [[3, 6], [1, 2], [2, 4.5]])
        self.assertEqual([t.get_text() for t in ax.get_legend().get_texts()], ["data", "fit"])

    def test_negative_slope(self):
        slope, intercept, r2, _ = task_func([0, 10], [5, -15])
        self.assertAlmostEqual(slope, -2.0)
        self.assertAlmostEqual(intercept, 5.0)

    def test_invalid_input_raises(self):
        for x, y in (([1, 2, 3], [1, 2]), ([1], [1]), ([2, 2, 2], [1, 2, 3]), ([[1, 2], [3, 4]], [[1, 2], [3, 4]]), ([], [])):
            with self.subTest(x=x, y=y):
                with self.assertRaises(ValueError):
                    task_func(x, y)
''',
["numpy", "matplotlib"],
))

# 26: text and links of an HTML page ----------------------------------------------------------
_TASKS.append((
r'''
from html.parser import HTMLParser

def task_func(html_text):
    """
    Extract the readable text and the links of an HTML page, for example to index it for search.
    The text is the page's text pieces joined in document order (tags themselves add no space),
    without the content of <script> and <style> elements, with character references such as
    &amp; decoded and every run of whitespace collapsed to one space. The links are the href
    values of <a> elements (character references decoded), in order of first appearance and
    without repeats; an <a> without an href, or with an empty one, is not a link.

    Parameters:
    - html_text (str): The HTML source.

    Returns:
    tuple: A tuple containing:
        - str: The text, whitespace collapsed and stripped.
        - list of str: The distinct link targets.

    Raises:
    - TypeError: If html_text is not a str.

    Requirements:
    - html.parser

    Example:
    >>> page = '<p>Fish &amp; chips <a href="/menu">menu</a></p><script>var x = 1;</script><a href="/menu">again</a>'
    >>> task_func(page)
    ('Fish & chips menuagain', ['/menu'])
    """
''',
r'''
    if not isinstance(html_text, str):
        raise TypeError("html_text must be a str")

    class Extractor(HTMLParser):
        def __init__(self):
            super().__init__(convert_charrefs=True)
            self.hidden = 0
            self.pieces = []
            self.links = []

        def handle_starttag(self, tag, attrs):
            if tag in ("script", "style"):
                self.hidden += 1
            elif tag == "a":
                href = dict(attrs).get("href")
                if href and href not in self.links:
                    self.links.append(href)

        def handle_endtag(self, tag):
            if tag in ("script", "style") and self.hidden:
                self.hidden -= 1

        def handle_data(self, data):
            if not self.hidden:
                self.pieces.append(data)

    parser = Extractor()
    parser.feed(html_text)
    parser.close()
    return " ".join("".join(parser.pieces).split()), parser.links
''',
r'''
import unittest

class TestCases(unittest.TestCase):
    def test_example(self):
        page = '<p>Fish &amp; chips <a href="/menu">menu</a></p><script>var x = 1;</script><a href="/menu">again</a>'
        self.assertEqual(task_func(page), ("Fish & chips menuagain", ["/menu"]))

    def test_whitespace_collapsed(self):
        page = "<html><body>\n  <h1>  Title </h1>\n\t<p>First\n   paragraph.</p>\n</body></html>"
        self.assertEqual(task_func(page), ("Title First paragraph.", []))

    def test_script_and_style_hidden(self):
        page = "<style>p { color: red; }</style><p>shown</p><SCRIPT>alert('x')</SCRIPT> too"
        self.assertEqual(task_func(page)[0], "shown too")

    def test_stray_end_tags(self):
        self.assertEqual(task_func("before</script> after</style> <b>bold</b>"), ("before after bold", []))
        self.assertEqual(task_func("<i>in</i>line<br>"), ("inline", []))

    def test_links_order_and_duplicates(self):
        page = ('<a href="https://b.example/">b</a><a name="top">anchor</a><a href="">empty</a>'
                '<A HREF="/docs?x=1&amp;y=2">docs</A><a href="https://b.example/">b again</a><a href="mailto:me@x.example">m</a>')
        text, links = task_func(page)
        self.assertEqual(links, ["https://b.example/", "/docs?x=1&y=2", "mailto:me@x.example"])
        self.assertEqual(text, "banchoremptydocsb againm")

    def test_entities(self):
        self.assertEqual(task_func("5 &lt; 6 &#38; caf&eacute; &#x263A;")[0], "5 < 6 & caf\u00e9 \u263a")

    def test_empty_and_text_only(self):
        self.assertEqual(task_func(""), ("", []))
        self.assertEqual(task_func("  plain   text  "), ("plain text", []))

    def test_type_error(self):
        with self.assertRaises(TypeError):
            task_func(b"<p>bytes</p>")
        with self.assertRaises(TypeError):
            task_func(None)
''',
["html"],
))

# 27: line changes between two versions -------------------------------------------------------
_TASKS.append((
r'''
import difflib

def task_func(old_text, new_text):
    """
    Summarise how a text changed between two versions, line by line, as a code review tool does:
    which lines were removed, which were added, and how similar the two versions are. Lines are
    compared exactly, line endings aside; the changes are those of difflib.SequenceMatcher (with
    autojunk off) applied to the two lists of lines, so a line that moved counts as removed from
    its old place and added at its new one.

    Parameters:
    - old_text (str): The earlier version.
    - new_text (str): The later version.

    Returns:
    dict: With keys "removed" (list of str: the lines taken out, in their order in old_text), "added" (list of str: the lines put in, in their order in new_text) and "similarity" (float: the matcher's ratio, rounded to 3 decimals; 1.0 for two empty texts).

    Raises:
    - TypeError: If old_text or new_text is not a str.

    Requirements:
    - difflib

    Example:
    >>> task_func("a\\nb\\nc\\nd\\n", "a\\nB\\nc\\nd\\ne\\n")
    {'removed': ['b'], 'added': ['B', 'e'], 'similarity': 0.667}
    """
''',
r'''
    if not isinstance(old_text, str) or not isinstance(new_text, str):
        raise TypeError("both versions must be str")
    old_lines = old_text.splitlines()
    new_lines = new_text.splitlines()
    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    removed, added = [], []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag in ("replace", "delete"):
            removed.extend(old_lines[i1:i2])
        if tag in ("replace", "insert"):
            added.extend(new_lines[j1:j2])
    return {"removed": removed, "added": added, "similarity": round(matcher.ratio(), 3)}
''',
r'''
import unittest

class TestCases(unittest.TestCase):
    def test_example(self):
        self.assertEqual(task_func("a\nb\nc\nd\n", "a\nB\nc\nd\ne\n"), {"removed": ["b"], "added": ["B", "e"], "similarity": 0.667})

    def test_identical_and_line_endings(self):
        self.assertEqual(task_func("x\ny\n", "x\r\ny"), {"removed": [], "added": [], "similarity": 1.0})

    def test_only_additions(self):
        result = task_func("one\ntwo", "zero\none\ntwo\nthree")
        self.assertEqual(result["removed"], [])
        self.assertEqual(result["added"], ["zero", "three"])
        self.assertEqual(result["similarity"], 0.667)

    def test_only_removals(self):
        result = task_func("keep\ndrop 1\nkeep too\ndrop 2", "keep\nkeep too")
        self.assertEqual(result, {"removed": ["drop 1", "drop 2"], "added": [], "similarity": 0.667})

    def test_moved_line(self):
        result = task_func("a\nb\nc", "b\nc\na")
        self.assertEqual((result["removed"], result["added"]), (["a"], ["a"]))

    def test_whitespace_matters_and_type(self):
        result = task_func("x = 1\n", "x = 1 \n")
        self.assertEqual(result, {"removed": ["x = 1"], "added": ["x = 1 "], "similarity": 0.0})
        self.assertIsInstance(result["similarity"], float)

    def test_empty_texts(self):
        self.assertEqual(task_func("", ""), {"removed": [], "added": [], "similarity": 1.0})
        self.assertEqual(task_func("", "new\nlines"), {"removed": [], "added": ["new", "lines"], "similarity": 0.0})

    def test_type_error(self):
        with self.assertRaises(TypeError):
            task_func(["a"], "a")
        with self.assertRaises(TypeError):
            task_func("a", None)
''',
["difflib"],
))

# 28: meeting room allocation -----------------------------------------------------------------
_TASKS.append((
r'''
import heapq

def task_func(meetings):
    """
    Assign meetings to as few rooms as possible. Each meeting is a (start, end) pair of numbers,
    such as hours of the day. A room is free again at the moment its meeting ends, so a meeting may
    start in a room exactly when the previous one there ends. Meetings are handled in order of start
    time (then end time, then input position); each takes the free room with the lowest number,
    and a new room is opened only when no room is free.

    Parameters:
    - meetings (list of tuple): The (start, end) pairs.

    Returns:
    tuple: A tuple containing:
        - int: The number of rooms needed.
        - list of int: The room (numbered from 0) given to each meeting, in input order.

    Raises:
    - ValueError: If a meeting does not end after it starts.

    Requirements:
    - heapq

    Example:
    >>> task_func([(9, 10), (9.5, 11), (10, 12), (11, 13)])
    (2, [0, 1, 0, 1])
    """
''',
r'''
    for start, end in meetings:
        if not start < end:
            raise ValueError(f"meeting ({start}, {end}) does not end after it starts")
    order = sorted(range(len(meetings)), key=lambda i: (meetings[i][0], meetings[i][1], i))
    busy = []
    free = []
    rooms = [0] * len(meetings)
    opened = 0
    for i in order:
        start, end = meetings[i]
        while busy and busy[0][0] <= start:
            heapq.heappush(free, heapq.heappop(busy)[1])
        if free:
            room = heapq.heappop(free)
        else:
            room = opened
            opened += 1
        rooms[i] = room
        heapq.heappush(busy, (end, room))
    return opened, rooms
''',
r'''
import unittest

class TestCases(unittest.TestCase):
    def test_example(self):
        self.assertEqual(task_func([(9, 10), (9.5, 11), (10, 12), (11, 13)]), (2, [0, 1, 0, 1]))

    def test_back_to_back_share_a_room(self):
        self.assertEqual(task_func([(8, 9), (9, 10), (10, 11)]), (1, [0, 0, 0]))

    def test_all_overlapping(self):
        self.assertEqual(task_func([(1, 5), (2, 6), (3, 7), (4, 8)]), (4, [0, 1, 2, 3]))

    def test_input_order_kept(self):
        self.assertEqual(task_func([(14, 15), (9, 12), (10, 11), (11, 16)]), (2, [0, 0, 1, 1]))

    def test_lowest_free_room_reused(self):
        # Room 1 frees up (at 2) before room 0 (at 5), but the meeting at 6 takes room 0.
        self.assertEqual(task_func([(0, 5), (1, 2), (6, 7), (6.5, 8)]), (2, [0, 1, 0, 1]))

    def test_ties_by_end_then_position(self):
        self.assertEqual(task_func([(1, 3), (1, 2), (1, 2), (2, 5)]), (3, [2, 0, 1, 0]))

    def test_empty(self):
        self.assertEqual(task_func([]), (0, []))

    def test_invalid_meeting_raises(self):
        with self.assertRaises(ValueError):
            task_func([(1, 2), (3, 3)])
        with self.assertRaises(ValueError):
            task_func([(5, 4)])
''',
["heapq"],
))
# 29: signed token verification ---------------------------------------------------------------
_TASKS.append((
r'''
import base64
import hashlib
import hmac
import json

def task_func(token, secret):
    """
    Verify and decode a signed token of the form "<payload>.<signature>", such as a web service
    hands to its clients to get back unchanged. <payload> is a JSON object, encoded as UTF-8 and
    then as URL-safe base64 without "=" padding; <signature> is the HMAC-SHA256, under the secret
    key, of the <payload> text itself (its ASCII characters), also URL-safe base64 without padding.
    The signature is checked, in constant time, before the payload is decoded.

    Parameters:
    - token (str): The token to check.
    - secret (bytes): The signing key.

    Returns:
    dict: The decoded payload.

    Raises:
    - ValueError: If the token is malformed, its signature does not match, or its payload is not a JSON object.

    Requirements:
    - base64
    - hashlib
    - hmac
    - json

    Example:
    >>> body = base64.urlsafe_b64encode(b'{"user": "ada"}').rstrip(b"=")
    >>> signature = base64.urlsafe_b64encode(hmac.new(b"k3y", body, hashlib.sha256).digest()).rstrip(b"=")
    >>> token = (body + b"." + signature).decode()
    >>> task_func(token, b"k3y")
    {'user': 'ada'}
    >>> task_func(token, b"another key")
    Traceback (most recent call last):
    ...
    ValueError: bad signature
    """
''',
r'''
    def decode(part):
        return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))

    pieces = token.split(".")
    if len(pieces) != 2 or not all(pieces):
        raise ValueError("malformed token")
    body, signature = pieces
    try:
        given = decode(signature)
        expected = hmac.new(secret, body.encode("ascii"), hashlib.sha256).digest()
    except ValueError:
        raise ValueError("malformed token")
    if not hmac.compare_digest(given, expected):
        raise ValueError("bad signature")
    try:
        payload = json.loads(decode(body))
    except ValueError:
        raise ValueError("malformed payload")
    if not isinstance(payload, dict):
        raise ValueError("the payload is not a JSON object")
    return payload
''',
r'''
import unittest
import base64
import hashlib
import hmac
import json

def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

def sign(body, secret):
    return body + "." + b64(hmac.new(secret, body.encode(), hashlib.sha256).digest())

class TestCases(unittest.TestCase):
    def setUp(self):
        self.secret = b"s3cret-key"
        self.payload = {"user": "ada", "roles": ["admin"], "exp": 1700000000, "note": "caf\u00e9 ~~??"}
        self.token = sign(b64(json.dumps(self.payload).encode("utf-8")), self.secret)

    def test_valid_token(self):
        self.assertEqual(task_func(self.token, self.secret), self.payload)

    def test_padding_lengths(self):
        for text in ("{}", '{"a":1}', '{"ab":1}', '{"abc":1}'):
            with self.subTest(payload=text):
                self.assertEqual(task_func(sign(b64(text.encode()), b"k"), b"k"), json.loads(text))

    def test_wrong_key_or_tampered_payload(self):
        with self.assertRaises(ValueError):
            task_func(self.token, b"other-key")
        body, signature = self.token.split(".")
        forged = b64(json.dumps(dict(self.payload, user="eve")).encode())
        with self.assertRaises(ValueError):
            task_func(forged + "." + signature, self.secret)

    def test_malformed_tokens(self):
        body, signature = self.token.split(".")
        for bad in ("", "nodot", body + ".", "." + signature, self.token + ".extra", body + ".A", "\u00e9" + body + "." + signature):
            with self.subTest(token=bad):
                with self.assertRaises(ValueError):
                    task_func(bad, self.secret)

    def test_payload_must_be_json_object(self):
        for raw in (b"[1, 2]", b'"text"', b"not json", b"\xff\xfe"):
            with self.subTest(raw=raw):
                with self.assertRaises(ValueError):
                    task_func(sign(b64(raw), self.secret), self.secret)

    def test_url_safe_alphabet(self):
        for data in (b'{"k": "???"}', b'{"k": "~~~"}'):
            token = sign(b64(data), b"k")
            self.assertTrue({"-", "_"} & set(token.split(".")[0]))
            self.assertEqual(task_func(token, b"k"), json.loads(data))
''',
["base64", "hashlib", "hmac", "json"],
))

# 30: n-th weekday of a month -----------------------------------------------------------------
_TASKS.append((
r'''
import calendar
from datetime import date

def task_func(year, month, weekday, n):
    """
    Find the date of the n-th given weekday of a month, as needed for holidays and recurring
    meetings defined like "the fourth Thursday of November" or "the last Monday of May". n counts
    from 1; a negative n counts from the end of the month, so -1 means the last such weekday.

    Parameters:
    - year (int): The year, from 1 to 9999.
    - month (int): The month, from 1 to 12.
    - weekday (str): The English name of the weekday, in any letter case, such as "Monday".
    - n (int): Which occurrence: 1 to 5 from the start of the month, or -1 to -5 from its end.

    Returns:
    datetime.date: The date of that occurrence.

    Raises:
    - ValueError: If month is not from 1 to 12, weekday is not a weekday name, n is 0, or the month has fewer than abs(n) such weekdays.

    Requirements:
    - calendar
    - datetime

    Example:
    >>> task_func(2024, 11, "Thursday", 4)
    datetime.date(2024, 11, 28)
    >>> task_func(2024, 5, "monday", -1)
    datetime.date(2024, 5, 27)
    """
''',
r'''
    names = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    if not 1 <= month <= 12:
        raise ValueError("month must be from 1 to 12")
    if weekday.strip().lower() not in names:
        raise ValueError(f"not a weekday name: {weekday!r}")
    target = names.index(weekday.strip().lower())
    first, length = calendar.monthrange(year, month)
    days = [day for day in range(1, length + 1) if (first + day - 1) % 7 == target]
    if n == 0 or abs(n) > len(days):
        raise ValueError(f"there is no occurrence {n} of {weekday} in {year}-{month:02d}")
    return date(year, month, days[n - 1] if n > 0 else days[n])
''',
r'''
import unittest
from datetime import date

class TestCases(unittest.TestCase):
    def test_examples(self):
        self.assertEqual(task_func(2024, 11, "Thursday", 4), date(2024, 11, 28))
        self.assertEqual(task_func(2024, 5, "monday", -1), date(2024, 5, 27))

    def test_first_day_of_month(self):
        self.assertEqual(task_func(2024, 11, "Friday", 1), date(2024, 11, 1))
        self.assertEqual(task_func(2023, 1, "SUNDAY", 1), date(2023, 1, 1))

    def test_fifth_occurrence(self):
        self.assertEqual(task_func(2024, 2, "Thursday", 5), date(2024, 2, 29))
        with self.assertRaises(ValueError):
            task_func(2023, 2, "Thursday", 5)

    def test_counting_from_the_end(self):
        self.assertEqual(task_func(2024, 3, "Sunday", -1), date(2024, 3, 31))
        self.assertEqual(task_func(2024, 3, "sunday", -2), date(2024, 3, 24))
        self.assertEqual(task_func(2024, 3, "Sunday", -5), date(2024, 3, 3))
        self.assertEqual(task_func(2024, 12, " Tuesday ", -1), date(2024, 12, 31))

    def test_every_weekday_once(self):
        # 2024-07-01 is a Monday.
        names = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
        self.assertEqual([task_func(2024, 7, name, 1).day for name in names], [1, 2, 3, 4, 5, 6, 7])

    def test_invalid_arguments_raise(self):
        for args in ((2024, 13, "Monday", 1), (2024, 0, "Monday", 1), (2024, 5, "Mon", 1), (2024, 5, "Funday", 1),
                     (2024, 5, "Monday", 0), (2024, 5, "Monday", 6), (2024, 5, "Monday", -6)):
            with self.subTest(args=args):
                with self.assertRaises(ValueError):
                    task_func(*args)
''',
["calendar", "datetime"],
))

# 31: invoice totals in exact decimals --------------------------------------------------------
_TASKS.append((
r'''
from decimal import Decimal, InvalidOperation, ROUND_HALF_UP

def task_func(items, tax_rate="0"):
    """
    Compute the totals of an invoice with exact decimal arithmetic, as bookkeeping requires
    (binary floats turn 0.1 + 0.2 into 0.30000000000000004). Each item is a (quantity, unit_price)
    pair. Every line total, quantity * unit_price, is rounded to cents with halves rounded up
    (away from zero), and the rounded line totals add up to the subtotal; the tax is the subtotal
    times the tax rate, rounded the same way; the total is subtotal + tax. Numbers may be given as
    int or as decimal strings such as "19.99", so that no precision is lost on the way in.

    Parameters:
    - items (list of tuple): The (quantity, unit_price) pairs.
    - tax_rate (str, optional): The tax rate as a fraction, such as "0.2" for 20%. Defaults to "0".

    Returns:
    dict: With keys "subtotal", "tax" and "total", each a decimal.Decimal with exactly two decimal places.

    Raises:
    - ValueError: If a quantity, a price or the tax rate is not a decimal number, or is negative, infinite or NaN.

    Requirements:
    - decimal

    Example:
    >>> task_func([(3, "0.10"), (1, "19.99"), (1, "0.125")], tax_rate="0.2")
    {'subtotal': Decimal('20.42'), 'tax': Decimal('4.08'), 'total': Decimal('24.50')}
    """
''',
r'''
    cent = Decimal("0.01")

    def number(value):
        try:
            parsed = Decimal(str(value).strip())
        except InvalidOperation:
            raise ValueError(f"not a decimal number: {value!r}")
        if not parsed.is_finite() or parsed < 0:
            raise ValueError(f"not a finite non-negative number: {value!r}")
        return parsed

    rate = number(tax_rate)
    subtotal = Decimal("0.00")
    for quantity, price in items:
        subtotal += (number(quantity) * number(price)).quantize(cent, rounding=ROUND_HALF_UP)
    tax = (subtotal * rate).quantize(cent, rounding=ROUND_HALF_UP)
    return {"subtotal": subtotal, "tax": tax, "total": subtotal + tax}
''',
r'''
import unittest
from decimal import Decimal

class TestCases(unittest.TestCase):
    def test_example(self):
        result = task_func([(3, "0.10"), (1, "19.99"), (1, "0.125")], tax_rate="0.2")
        self.assertEqual(result, {"subtotal": Decimal("20.42"), "tax": Decimal("4.08"), "total": Decimal("24.50")})

    def test_exactly_two_places(self):
        result = task_func([(2, "5")], "0.1")
        for key in ("subtotal", "tax", "total"):
            self.assertIsInstance(result[key], Decimal)
            self.assertEqual(result[key].as_tuple().exponent, -2, key)
        self.assertEqual(str(result["total"]), "11.00")

    def test_no_float_drift(self):
        result = task_func([(1, "0.1"), (1, "0.2")])
        self.assertEqual(str(result["subtotal"]), "0.30")
        self.assertEqual(result["tax"], Decimal("0"))

    def test_half_up_per_line_and_on_tax(self):
        self.assertEqual(task_func([(1, "0.005"), (1, "0.005")])["subtotal"], Decimal("0.02"))
        self.assertEqual(task_func([(1, "2.675")])["subtotal"], Decimal("2.68"))
        self.assertEqual(task_func([(1, "0.25")], "0.1")["tax"], Decimal("0.03"))
        self.assertEqual(task_func([("2.5", "1.3")], "0.07"), {"subtotal": Decimal("3.25"), "tax": Decimal("0.23"), "total": Decimal("3.48")})

    def test_empty_invoice(self):
        self.assertEqual(task_func([], "0.2"), {"subtotal": Decimal("0.00"), "tax": Decimal("0.00"), "total": Decimal("0.00")})

    def test_whitespace_and_zero_quantity(self):
        self.assertEqual(task_func([(" 2 ", " 1.50 "), (0, "99.99")])["total"], Decimal("3.00"))

    def test_invalid_numbers_raise(self):
        for items, rate in (([(1, "abc")], "0"), ([(1, "1.00")], "twenty"), ([(-1, "1.00")], "0"), ([(1, "-0.01")], "0"),
                            ([(1, "1.00")], "-0.2"), ([(1, "NaN")], "0"), ([(1, "Infinity")], "0"), ([(1, "")], "0")):
            with self.subTest(items=items, rate=rate):
                with self.assertRaises(ValueError):
                    task_func(items, rate)
''',
["decimal"],
))

RECORDS: tuple[dict[str, str], ...] = tuple(
    _record(number, prompt, solution, test, libs)
    for number, (prompt, solution, test, libs) in enumerate(_TASKS)
)
del _TASKS
