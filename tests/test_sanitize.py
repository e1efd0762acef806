"""The sanitizer on messy, real-world-style answers, each with its expected program written out.

The expected strings are what the official `bigcodebench.sanitize.sanitize` returns (quirks
included: see bcb.generation.sanitize); `test_agrees_with_official_sanitizer` checks that claim
byte for byte when the official package is installed in ../venvs/official (or BCB_OFFICIAL_PYTHON).
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from dataclasses import dataclass

import pytest

from bcb.generation.sanitize import extract_code, kept_definitions, longest_valid_span, sanitize, strip_reasoning
from helpers import OFFICIAL_PYTHON


@dataclass(frozen=True)
class Case:
    name: str
    text: str
    expected: str
    entry_point: str = "task_func"
    reasoning: bool = False
    """The answer carries a reasoning trace: the official sanitizer is given the text without it
    (removing traces is a deliberate addition, see the module docstring)."""


CASES: list[Case] = [
    Case(
        "bare code passes through",
        "import os\n\ndef task_func(path):\n    return os.path.exists(path)\n",
        "import os\ndef task_func(path):\n    return os.path.exists(path)",
    ),
    Case(
        "prose around a fenced block",
        "Here is the solution:\n\n```python\nimport os\n\ndef task_func(path):\n    return os.path.isdir(path)\n```\n\n"
        "The function returns True when the path is a directory.",
        "import os\ndef task_func(path):\n    return os.path.isdir(path)",
    ),
    Case(
        "several blocks: the longest wins",
        "Install first:\n```bash\npip install numpy\n```\nThen:\n```python\nimport numpy as np\n\ndef task_func(n):\n"
        "    a = np.arange(n)\n    return a.sum()\n```\nExample:\n```python\nprint(task_func(3))\n```\n",
        "import numpy as np\ndef task_func(n):\n    a = np.arange(n)\n    return a.sum()",
    ),
    Case(
        "several blocks of equal length: the first wins, even if it is only imports",
        "First the imports:\n```python\nimport os\nimport sys\n```\nThen the function:\n```python\ndef task_func():\n"
        "    return os.sep\n```\n",
        "import os\nimport sys",
    ),
    Case(
        "a block without a language tag",
        "```\nimport math\n\ndef task_func(x):\n    return math.sqrt(x)\n```",
        "import math\ndef task_func(x):\n    return math.sqrt(x)",
    ),
    Case(
        "if __name__ demo dropped",
        "import random\n\ndef task_func(seed=0):\n    random.seed(seed)\n    return random.random()\n\n"
        "if __name__ == '__main__':\n    print(task_func())\n",
        "import random\ndef task_func(seed=0):\n    random.seed(seed)\n    return random.random()",
    ),
    Case(
        "unterminated fence",
        "Sure:\n```python\nimport math\n\ndef task_func(r):\n    return math.pi * r ** 2\n",
        "import math\ndef task_func(r):\n    return math.pi * r ** 2",
    ),
    Case(
        "tab-indented entry point is cut by the official last step, leaving the imports",
        "```python\nimport os\ndef task_func():\n\treturn os.getcwd()\n```",
        "import os",
    ),
    Case(
        "tab-indented entry point without imports falls back to the raw span",
        "```python\ndef task_func(a, b):\n\tif a > b:\n\t\treturn a\n\treturn b\n```",
        "def task_func(a, b):\n\tif a > b:\n\t\treturn a\n\treturn b",
    ),
    Case(
        "decorated helper dropped (tree-sitter files it under decorated_definition)",
        "import functools\n\n@functools.lru_cache(maxsize=None)\ndef fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n\n"
        "def task_func(n):\n    return fib(n)\n",
        "import functools\ndef task_func(n):\n    return fib(n)",
    ),
    Case(
        "decorated entry point dropped: only the imports remain",
        "import time\n\ndef timer(f):\n    return f\n\n@timer\ndef task_func():\n    return time.time()\n",
        "import time",
    ),
    Case(
        "nested helpers stay inside the entry point",
        "def task_func(items):\n    def key(x):\n        return -x\n\n    class Box:\n        pass\n\n    return sorted(items, key=key)\n",
        "def task_func(items):\n    def key(x):\n        return -x\n\n    class Box:\n        pass\n\n    return sorted(items, key=key)",
    ),
    Case(
        "class-based answer keeps the class the entry point uses",
        "```python\nimport math\n\nclass Circle:\n    def __init__(self, r):\n        self.r = r\n\n    def area(self):\n"
        "        return math.pi * self.r ** 2\n\n\ndef task_func(r):\n    return Circle(r).area()\n```",
        "import math\nclass Circle:\n    def __init__(self, r):\n        self.r = r\n\n    def area(self):\n"
        "        return math.pi * self.r ** 2\ndef task_func(r):\n    return Circle(r).area()",
    ),
    Case(
        "star import kept",
        "from math import *\n\ndef task_func(x):\n    return sqrt(x) + pi\n",
        "from math import *\ndef task_func(x):\n    return sqrt(x) + pi",
    ),
    Case(
        "syntax error: the longest valid span around it is taken",
        "```python\nimport os\ndef helper():\n    return 1 +\ndef task_func():\n    return helper()\n```",
        "def task_func():\n    return helper()",
    ),
    Case(
        "think block removed before extraction",
        "<think>\nThe user wants a sum. A first draft:\n```python\nimport numpy\nimport sys\nimport os\n\ndef task_func(a, b):\n"
        "    # draft, do not use\n    return numpy.add(a, b)\n```\nSimpler is better.\n</think>\n\n"
        "```python\ndef task_func(a, b):\n    return a + b\n```",
        "def task_func(a, b):\n    return a + b",
        reasoning=True,
    ),
    Case(
        "unclosed leading think: the answer follows </think>",
        "Okay, let me plan this.\n```python\nimport os\nimport re\nimport sys\n\ndef task_func(s):\n    return s\n```\n"
        "That looks long.\n</think>\nFinal answer:\n```python\ndef task_func(s):\n    return s.upper()\n```\n",
        "def task_func(s):\n    return s.upper()",
        reasoning=True,
    ),
    Case(
        "example usage prints after the function dropped",
        "def task_func(x):\n    return x + 1\n\n# Example usage\nprint(task_func(1))\nprint('done')\n",
        "def task_func(x):\n    return x + 1",
    ),
    Case(
        "helper defined after the entry point kept, in source order",
        "def task_func(words):\n    return [normalize(w) for w in words]\n\ndef normalize(w):\n    return w.strip().lower()\n\n"
        "def unused():\n    return 0\n",
        "def task_func(words):\n    return [normalize(w) for w in words]\ndef normalize(w):\n    return w.strip().lower()",
    ),
    Case(
        "global constants used by the entry point kept",
        "import random\n\nSEED = 42\nCOLORS = ['red', 'green']\n\ndef task_func():\n    random.seed(SEED)\n    return random.choice(COLORS)\n",
        "import random\nSEED = 42\nCOLORS = ['red', 'green']\ndef task_func():\n    random.seed(SEED)\n    return random.choice(COLORS)",
    ),
    Case(
        "unused globals dropped, and globals reached through a helper kept",
        "UNUSED = 1\nLIMIT = 10\nSCALE: float = 2.5\n\ndef clip(x):\n    return min(x, LIMIT) * SCALE\n\n"
        "def task_func(x):\n    return clip(x)\n",
        "LIMIT = 10\nSCALE: float = 2.5\ndef clip(x):\n    return min(x, LIMIT) * SCALE\ndef task_func(x):\n    return clip(x)",
    ),
    Case(
        "imports inside the function stay there",
        "def task_func(data):\n    import json\n    from collections import Counter\n    return json.dumps(Counter(data))\n",
        "def task_func(data):\n    import json\n    from collections import Counter\n    return json.dumps(Counter(data))",
    ),
    Case(
        "try/except ImportError at top level dropped",
        "try:\n    import numpy as np\nexcept ImportError:\n    np = None\n\ndef task_func(n):\n    return np.zeros(n)\n",
        "def task_func(n):\n    return np.zeros(n)",
    ),
    Case(
        "entry point defined twice: the first wins",
        "def task_func(x):\n    return x\n\ndef task_func(x):\n    return x * 2\n",
        "def task_func(x):\n    return x",
    ),
    Case(
        "Windows line endings: CRLF kept inside definitions, the print dropped",
        "import os\r\n\r\ndef task_func(p):\r\n    return os.path.basename(p)\r\n\r\nprint(task_func('a/b'))\r\n",
        "import os\ndef task_func(p):\r\n    return os.path.basename(p)",
    ),
    Case(
        "prose only: the first line comes back",
        "I'm sorry, but I can't help with that request.\nPlease provide more details.",
        "I'm sorry, but I can't help with that request.",
    ),
    Case("empty answer", "", ""),
    Case(
        "async entry point",
        "import asyncio\n\nasync def task_func(delay):\n    await asyncio.sleep(delay)\n    return delay\n",
        "import asyncio\nasync def task_func(delay):\n    await asyncio.sleep(delay)\n    return delay",
    ),
    Case(
        "tuple-unpacked global has no name and is dropped",
        "WIDTH, HEIGHT = 640, 480\n\ndef task_func():\n    return WIDTH * HEIGHT\n",
        "def task_func():\n    return WIDTH * HEIGHT",
    ),
    Case(
        "trailing comments indented under the body belong to it",
        "def task_func(x):\n    y = x * 2\n    return y  # doubled\n    # end of task_func\n\n# module comment\nprint(1)\n",
        "def task_func(x):\n    y = x * 2\n    return y  # doubled\n    # end of task_func",
    ),
    Case(
        "a semicolon after the last statement belongs to the definition",
        "def task_func():\n    return 3;\nx = task_func()\n",
        "def task_func():\n    return 3;",
    ),
    Case(
        "complete-split answer: prompt with docstring, then the body, then tests",
        'import numpy as np\ndef task_func(n):\n    """\n    Return 0..n-1.\n\n    >>> task_func(2)\n    array([0, 1])\n    """\n'
        "    return np.arange(n)\n\n# quick test\nassert task_func(2).tolist() == [0, 1]\nprint(task_func(3))\n",
        'import numpy as np\ndef task_func(n):\n    """\n    Return 0..n-1.\n\n    >>> task_func(2)\n    array([0, 1])\n    """\n'
        "    return np.arange(n)",
    ),
    Case(
        "from __future__ import dropped",
        "from __future__ import annotations\nimport os\n\ndef task_func(a: int) -> int:\n    return a\n",
        "import os\ndef task_func(a: int) -> int:\n    return a",
    ),
    Case(
        "one-line entry point is cut by the official last step",
        "import os\ndef task_func(): return os.sep\n",
        "import os",
    ),
    Case(
        "unittest class dropped, its import kept",
        "import unittest\n\ndef task_func(a):\n    return a * 2\n\nclass TestTaskFunc(unittest.TestCase):\n    def test_double(self):\n"
        "        self.assertEqual(task_func(2), 4)\n\nif __name__ == '__main__':\n    unittest.main()\n",
        "import unittest\ndef task_func(a):\n    return a * 2",
    ),
    Case(
        "entry point missing: only the imports remain",
        "import math\n\ndef solve(x):\n    return math.floor(x)\n",
        "import math",
    ),
    Case(
        "entry point missing and no imports: the raw span comes back",
        "Solution:\n```python\ndef solve(x):\n    return x\n\nprint(solve(1))\n```",
        "def solve(x):\n    return x\n\nprint(solve(1))",
    ),
    Case(
        "a call result bound to a name the entry point uses is kept, then cut",
        "def task_func():\n    result = 1\n    return result\n\nresult = task_func()\nprint(result)\n",
        "def task_func():\n    result = 1\n    return result",
    ),
    Case(
        "multi-line test data bound to a name the entry point uses survives",
        "import pandas as pd\n\ndef task_func(df):\n    return df.sum()\n\ndf = pd.DataFrame({\n    'a': [1, 2],\n})\nprint(task_func(df))\n",
        "import pandas as pd\ndef task_func(df):\n    return df.sum()\ndf = pd.DataFrame({\n    'a': [1, 2],\n})",
    ),
    Case(
        "a prose line that parses joins the span harmlessly",
        "Solution\nimport re\ndef task_func(s):\n    return re.sub(r'\\s+', ' ', s)\n",
        "import re\ndef task_func(s):\n    return re.sub(r'\\s+', ' ', s)",
    ),
    Case(
        "non-ASCII text: slicing by the parser's byte offsets",
        "def task_func():\n    return 'héllo wörld ✓'  # ünïcode\n    # fin ✓\nprint(task_func())\n",
        "def task_func():\n    return 'héllo wörld ✓'  # ünïcode\n    # fin ✓",
    ),
    Case(
        "lambda bound to a global",
        "square = lambda x: x * x\n\ndef task_func(xs):\n    return list(map(square, xs))\n",
        "square = lambda x: x * x\ndef task_func(xs):\n    return list(map(square, xs))",
    ),
    Case(
        "an indented answer never parses: the first line comes back",
        "1. Code:\n    ```python\n    def task_func():\n        return 1\n    ```",
        "1. Code:",
    ),
    Case(
        "global statement reaches the global",
        "COUNTER = 0\n\ndef task_func():\n    global COUNTER\n    COUNTER += 1\n    return COUNTER\n",
        "COUNTER = 0\ndef task_func():\n    global COUNTER\n    COUNTER += 1\n    return COUNTER",
    ),
    Case(
        "reachability is by any identifier, attribute names included",
        "def plot():\n    return 'top-level plot'\n\ndef task_func(df):\n    return df.plot()\n",
        "def plot():\n    return 'top-level plot'\ndef task_func(df):\n    return df.plot()",
    ),
    Case(
        "imports after the definitions move to the top",
        "def task_func():\n    return Path('.')\n\nfrom pathlib import Path\n",
        "from pathlib import Path\ndef task_func():\n    return Path('.')",
    ),
    Case(
        "a custom entry point",
        "import math\ndef f(x):\n    return math.exp(x)\ndef task_func():\n    return 0\n",
        "import math\ndef f(x):\n    return math.exp(x)",
        entry_point="f",
    ),
    Case(
        "explanation after the code with inline code spans",
        "```python\nimport hashlib\n\ndef task_func(s):\n    return hashlib.md5(s.encode()).hexdigest()\n```\n\n"
        "### Explanation\n1. **Import**: `hashlib` provides `md5`.\n2. **Hash**: `task_func` encodes then hashes.\n",
        "import hashlib\ndef task_func(s):\n    return hashlib.md5(s.encode()).hexdigest()",
    ),
    Case(
        "a constant shadowing a later function of the same name wins",
        "helper = 5\n\ndef helper():\n    return 6\n\ndef task_func():\n    return helper\n",
        "helper = 5\ndef task_func():\n    return helper",
    ),
    Case(
        "chained assignment named by its first target",
        "A = B = 3\n\ndef task_func():\n    return A + B\n",
        "A = B = 3\ndef task_func():\n    return A + B",
    ),
    Case(
        "invalid escape sequences are not syntax errors",
        "import re\n\ndef task_func(s):\n    return re.findall('\\d+', s)\n",
        "import re\ndef task_func(s):\n    return re.findall('\\d+', s)",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_sanitize(case: Case) -> None:
    assert sanitize(case.text, case.entry_point) == case.expected


def test_corpus_is_large_and_names_are_unique() -> None:
    assert len(CASES) >= 40
    assert len({c.name for c in CASES}) == len(CASES)


def _without_reasoning(text: str) -> str:
    """What the official sanitizer is given for a reasoning case: written independently of
    strip_reasoning, for the two shapes the corpus uses."""
    text = re.sub(r"(?s)<think>.*?</think>", "", text)
    return text.split("</think>", 1)[1] if "</think>" in text else text


def test_agrees_with_official_sanitizer() -> None:
    """Byte equality with `bigcodebench.sanitize.sanitize` on the whole corpus."""
    if not OFFICIAL_PYTHON.exists():
        pytest.skip(f"{OFFICIAL_PYTHON} absent: the official bigcodebench package is needed for the differential test")
    script = (
        "import json, sys\n"
        "from bigcodebench.sanitize import sanitize\n"
        "for line in sys.stdin:\n"
        "    case = json.loads(line)\n"
        "    print(json.dumps(sanitize(case['text'], case['entry_point'])))\n"
    )
    lines = [
        json.dumps({"text": _without_reasoning(c.text) if c.reasoning else c.text, "entry_point": c.entry_point})
        for c in CASES
    ]
    run = subprocess.run(
        [str(OFFICIAL_PYTHON), "-c", script],
        check=False,
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        timeout=120,
    )
    if run.returncode != 0 and "No module named 'bigcodebench'" in run.stderr:
        pytest.skip(f"{OFFICIAL_PYTHON} has no bigcodebench package")
    assert run.returncode == 0, run.stderr
    official = [json.loads(line) for line in run.stdout.splitlines()]
    differences = [
        f"{c.name}:\n  official: {o!r}\n  bcb:      {sanitize(c.text, c.entry_point)!r}"
        for c, o in zip(CASES, official, strict=True)
        if sanitize(c.text, c.entry_point) != o
    ]
    assert not differences, "differs from the official sanitizer:\n" + "\n".join(differences)


# ---------------------------------------------------------------------------------------------
# The parts


def test_strip_reasoning_shapes() -> None:
    assert strip_reasoning("<think>a</think>b") == "b"
    assert strip_reasoning("<THINK>\nx\n</THINK>\nanswer") == "\nanswer"
    assert strip_reasoning("plan...\n</think>\nanswer") == "\nanswer"
    assert strip_reasoning("\n<think>\nreasoning cut off before the answer") == ""
    assert (
        strip_reasoning("x = '<think>'  # a tag inside code is left alone")
        == "x = '<think>'  # a tag inside code is left alone"
    )
    assert strip_reasoning("<thinking>a</thinking>b<reasoning>c</reasoning>d") == "bd"
    assert strip_reasoning("<|begin_of_thought|>x<|end_of_thought|>y") == "y"
    assert strip_reasoning("no tags here") == "no tags here"


def test_extract_code_picks_official_span() -> None:
    text = "Intro text here.\n\n```python\nx = 1\ny = 2\n```\n```python\nz = 3\n```"
    assert extract_code(text) == "x = 1\ny = 2"
    assert longest_valid_span(text) == (3, 4)
    # a blank line before the code ties with the code itself and comes first
    assert longest_valid_span("Intro:\n\nx = 1\ny = 2") == (1, 3)
    # a single line is never a span: nothing qualifies, so the first line stands in
    assert extract_code("x = 1") == "x = 1"
    assert longest_valid_span("nothing valid here at all\nor here either") == (0, 0)


def test_kept_definitions_on_unparsable_code() -> None:
    assert kept_definitions("def (:") == ""
    assert kept_definitions("import os\nx = 1\ndef f(): return x", None) == "import os\nx = 1\ndef f(): return x"


def test_long_answers_are_fast() -> None:
    """The official extractor is cubic in lines; 1,000+ lines of mixed prose and code must take
    well under a second here."""
    body = "".join(f"    v{k} = {k} * 2\n" for k in range(300))
    prose = "".join(f"Step {k}: we explain what the code does, in words.\n" for k in range(200))
    text = (
        prose
        + "```python\nimport os\n\ndef task_func():\n"
        + body
        + "    return v0\n```\n"
        + prose
        + "```python\nprint(task_func())\n```\n"
    )
    started = time.perf_counter()
    result = sanitize(text)
    elapsed = time.perf_counter() - started
    assert result.startswith("import os\ndef task_func():\n    v0 = 0 * 2\n") and result.endswith("    return v0")
    assert elapsed < 1.0, f"{elapsed:.2f}s"
