"""`bcb report` opened in headless Chromium the way a reader opens it: the leaderboard renders,
sorts on a click, the task browser works, and loading the page makes no network request.

Chromium is driven over the DevTools protocol through `--remote-debugging-pipe` (file descriptors
3 and 4, NUL-separated JSON), so the test needs no Python package and opens no port. Chromium is
the Debian package; the test installs it when missing and it can, and is skipped (saying why)
only when it can do neither.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import re
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest

from bcb.dataset import Dataset, load_dataset
from test_analysis import bcb_file, run_cli

LAUNCH_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--window-size=1280,1000",
    "--remote-debugging-pipe",
)


def _find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome-stable", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


@pytest.fixture(scope="module")
def chromium() -> str:
    path = _find_chromium()
    if path is None and hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run("apt-get update && apt-get install -y chromium", shell=True, capture_output=True, timeout=900)
        path = _find_chromium()
    if path is None:
        pytest.skip(
            "headless Chromium is neither installed nor installable here (Debian package 'chromium', needs root and apt)"
        )
    return path


class DevTools:
    """A minimal DevTools-protocol client over Chromium's debugging pipe."""

    def __init__(self, executable: str, profile: Path, timeout: float = 30.0) -> None:
        self.timeout = timeout
        to_browser_r, to_browser_w = os.pipe()
        from_browser_r, from_browser_w = os.pipe()

        def wire_fds() -> None:  # in the child: the protocol's fds are 3 (commands in) and 4 (out)
            inbound = fcntl.fcntl(to_browser_r, fcntl.F_DUPFD, 10)
            outbound = fcntl.fcntl(from_browser_w, fcntl.F_DUPFD, 10)
            os.dup2(inbound, 3)
            os.dup2(outbound, 4)

        self.proc = subprocess.Popen(
            [executable, *LAUNCH_FLAGS, f"--user-data-dir={profile}", "about:blank"],
            pass_fds=(3, 4),
            preexec_fn=wire_fds,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(to_browser_r)
        os.close(from_browser_w)
        self.out, self.inp = to_browser_w, from_browser_r
        self.buffer = b""
        self.counter = 0
        self.events: list[dict[str, Any]] = []

    def _message(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self.buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([self.inp], [], [], remaining)[0]:
                raise TimeoutError("Chromium did not answer in time")
            chunk = os.read(self.inp, 1 << 16)
            if not chunk:
                raise RuntimeError("Chromium closed the DevTools pipe")
            self.buffer += chunk
        message, _, self.buffer = self.buffer.partition(b"\0")
        return json.loads(message)

    def send(self, method: str, params: dict[str, Any] | None = None, session: str | None = None) -> dict[str, Any]:
        self.counter += 1
        request: dict[str, Any] = {"id": self.counter, "method": method, "params": params or {}}
        if session:
            request["sessionId"] = session
        os.write(self.out, json.dumps(request).encode() + b"\0")
        deadline = time.monotonic() + self.timeout
        while True:
            message = self._message(deadline)
            if message.get("id") == self.counter:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self.events.append(message)

    def wait_for(self, event: str) -> dict[str, Any]:
        deadline = time.monotonic() + self.timeout
        seen = 0
        while True:
            for message in self.events[seen:]:
                if message.get("method") == event:
                    return message
            seen = len(self.events)
            self.events.append(self._message(deadline))

    def close(self) -> None:
        try:
            self.send("Browser.close")
        except (RuntimeError, TimeoutError, OSError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self.out)
        os.close(self.inp)


class Page:
    def __init__(self, browser: DevTools, session: str) -> None:
        self.browser, self.session = browser, session

    def send(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return self.browser.send(method, params, self.session)

    def js(self, expression: str) -> Any:
        result = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True})
        if "exceptionDetails" in result:
            raise AssertionError(f"script failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def click(self, selector: str) -> None:
        """A real mouse click at the element's centre, as a reader's."""
        box = self.js(
            f"(() => {{ const e = document.querySelector({json.dumps(selector)}); e.scrollIntoView({{block: 'center'}});"
            " const r = e.getBoundingClientRect(); return {x: r.x + r.width / 2, y: r.y + r.height / 2}; })()"
        )
        for kind in ("mousePressed", "mouseReleased"):
            self.send(
                "Input.dispatchMouseEvent",
                {"type": kind, "x": box["x"], "y": box["y"], "button": "left", "clickCount": 1},
            )

    def labels(self) -> list[str]:
        return self.js("[...document.querySelectorAll('#leaderboard tbody tr.model-row')].map(r => r.dataset.label)")


@pytest.fixture(scope="module")
def mini() -> Dataset:
    return load_dataset("bcb-mini")


def test_report_renders_sorts_and_stays_offline(
    bcb_cmd: list[str], chromium: str, tmp_path: Path, mini: Dataset
) -> None:
    all_ids = [t.task_id for t in mini]
    solved = {"alpha": 15, "beta": 6, "gamma": 10}
    files = []
    for model, k in solved.items():
        outcomes = {t: ["pass" if i < k else "fail"] for i, t in enumerate(all_ids)}
        files.append(
            str(
                bcb_file(
                    tmp_path / f"{model}_eval_results.json", mini, outcomes, model=model, gt_failed=["bcb-mini/17"]
                )
            )
        )
    report = tmp_path / "report.html"
    built = run_cli(
        bcb_cmd,
        "report",
        *files,
        "-o",
        str(report),
        "--reference",
        "human",
        "--stack",
        "pandas,numpy,matplotlib",
        "--resamples",
        "100",
    )
    assert built.returncode == 0, built.stderr
    html = report.read_text(encoding="utf-8")
    # Self-contained: nothing the page would fetch, and a policy that forbids fetching anyway.
    assert (
        not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html, re.I)
        and "<link" not in html
        and "<script src" not in html
    )
    assert (
        "default-src 'none'" in html
        and "reported, not measured" in html
        and "rests on <strong>7</strong> tasks" in html
    )

    profile = Path(tempfile.mkdtemp(prefix="chromium-profile-", dir=tmp_path))
    browser = DevTools(chromium, profile)
    try:
        target = browser.send("Target.createTarget", {"url": "about:blank"})
        session = browser.send("Target.attachToTarget", {"targetId": target["targetId"], "flatten": True})["sessionId"]
        page = Page(browser, session)
        for domain in ("Network.enable", "Page.enable", "Runtime.enable"):
            page.send(domain)
        page.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": 1280, "height": 1000, "deviceScaleFactor": 1, "mobile": False},
        )
        page.send("Page.navigate", {"url": report.as_uri()})
        browser.wait_for("Page.loadEventFired")

        assert page.js("document.querySelectorAll('#leaderboard tbody tr.model-row').length") == 3
        assert page.labels() == ["alpha", "gamma", "beta"]  # by pass@1 as written
        assert page.js("document.querySelectorAll('#leaderboard tfoot tr.reference-row').length") == 1

        page.click("#leaderboard th[data-col='1']")  # model: A-Z first
        assert page.labels() == ["alpha", "beta", "gamma"]
        assert (
            page.js("document.querySelector(\"#leaderboard th[data-col='1']\").getAttribute('aria-sort')")
            == "ascending"
        )
        page.click("#leaderboard th[data-col='1']")  # again: Z-A
        assert page.labels() == ["gamma", "beta", "alpha"]
        pass_col = page.js(
            "[...document.querySelectorAll('#leaderboard th')].findIndex(h => h.textContent === 'pass@1 %')"
        )
        page.click(f"#leaderboard th[data-col='{pass_col}']")  # numbers: best first
        assert page.labels() == ["alpha", "gamma", "beta"]
        page.click(f"#leaderboard th[data-col='{pass_col}']")
        assert page.labels() == ["beta", "gamma", "alpha"]

        assert page.js("document.querySelectorAll('#tasks li').length") == len(all_ids)
        page.click("#tasks li:nth-child(18)")
        assert page.js("document.querySelector('#task-detail h3').textContent") == "bcb-mini/17"
        assert "failed in the environment of" in page.js("document.querySelector('#task-detail').textContent")
        assert page.js("document.querySelectorAll('#domains-section svg g.cell').length") == 3 * 7

        page.js("window.scrollTo(0, 0)")
        shot = tmp_path / "report.png"
        shot.write_bytes(base64.b64decode(page.send("Page.captureScreenshot", {"format": "png"})["data"]))
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000

        requests = [
            e["params"]["request"]["url"] for e in browser.events if e.get("method") == "Network.requestWillBeSent"
        ]
        assert requests == [report.as_uri()], f"the page fetched more than itself: {requests}"
        assert not [url for url in requests if re.match(r"(https?|wss?|ftp):", url)]
    finally:
        browser.close()


def test_report_explains_failures_filters_and_compares(
    bcb_cmd: list[str], chromium: str, tmp_path: Path, mini: Dataset
) -> None:
    """The failure chart renders one bar per model with a segment per category; the category,
    library and domain filters change the visible tasks; a failing sample shows its category, its
    failing tests in test order with tracebacks free of bcb's frames and machine paths; two
    models' solutions sit side by side and the pickers swap them."""
    from test_analysis_errors import FIXTURE, _bcb_results, _canonical, _official_results

    a = _bcb_results(
        tmp_path / "model-a_eval_results.json",
        [FIXTURE[k] for k in ("api-removed", "import", "syntax", "assertion", "name")],
        "model-a",
    )
    b = _official_results(
        tmp_path / "model-b.jsonl_eval_results.json",
        [
            _canonical("bcb-mini/24"),
            FIXTURE["import"],
            _canonical("bcb-mini/6"),
            FIXTURE["assertion"],
            _canonical("bcb-mini/7"),
        ],
    )
    report = tmp_path / "report.html"
    built = run_cli(bcb_cmd, "report", str(a), str(b), "--dataset", "bcb-mini", "-o", str(report), "--resamples", "100")
    assert built.returncode == 0, built.stderr
    html = report.read_text(encoding="utf-8")
    assert "_sandbox.py" not in html and "site-packages/pandas" not in html.replace("<site-packages>/pandas", "")
    assert "model-b.jsonl" not in html.split('id="manifests-section"')[0]  # labels carry no file suffix

    browser = DevTools(chromium, Path(tempfile.mkdtemp(prefix="chromium-profile-", dir=tmp_path)))
    try:
        target = browser.send("Target.createTarget", {"url": "about:blank"})
        session = browser.send("Target.attachToTarget", {"targetId": target["targetId"], "flatten": True})["sessionId"]
        page = Page(browser, session)
        for domain in ("Page.enable", "Runtime.enable"):
            page.send(domain)
        page.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": 1280, "height": 1000, "deviceScaleFactor": 1, "mobile": False},
        )
        page.send("Page.navigate", {"url": report.as_uri()})
        browser.wait_for("Page.loadEventFired")

        bars = page.js(
            "[...document.querySelectorAll('#failure-chart g.stack')].map(g => [g.dataset.row, [...g.querySelectorAll('g.segment')].map(s => s.dataset.segment)])"
        )
        assert dict(bars) == {
            "model-a": ["syntax", "import", "name", "api", "assertion"],
            "model-b": ["import", "assertion"],
        }
        widths = page.js(
            "[...document.querySelectorAll('#failure-chart g.segment rect')].map(r => r.getBoundingClientRect().width)"
        )
        assert len(widths) == 7 and min(widths) > 20  # drawn, not just present

        def visible() -> list[str]:
            return page.js("[...document.querySelectorAll('#tasks li')].map(li => li.dataset.id)")

        def choose(select: str, value: str) -> None:
            page.js(
                f"(() => {{ const s = document.querySelector('{select}'); s.value = {json.dumps(value)}; s.dispatchEvent(new Event('change')); }})()"
            )

        assert visible() == ["bcb-mini/5", "bcb-mini/6", "bcb-mini/7", "bcb-mini/15", "bcb-mini/24"]
        choose("#task-category", "api")
        assert visible() == ["bcb-mini/24"]
        choose("#task-category", "import")
        assert visible() == ["bcb-mini/15"]
        choose("#task-category", "")
        choose("#task-library", "pandas")
        assert visible() == ["bcb-mini/5", "bcb-mini/15", "bcb-mini/24"]
        choose("#task-library", "scipy_stats_extra")  # the library an import failure names
        assert visible() == ["bcb-mini/15"]
        choose("#task-library", "")
        choose("#task-domain", "Visualization")
        assert visible() == ["bcb-mini/5"]
        choose("#task-domain", "")
        assert page.js("document.querySelector('#task-count').textContent") == "5 of 5 tasks"

        page.click("#tasks li[data-id='bcb-mini/24']")
        results = page.js(
            "[...document.querySelectorAll('#task-detail h4.result')].map(h => [h.dataset.entry, h.dataset.category || null])"
        )
        assert results == [["model-a", "api"], ["model-b", None]]
        assert "pandas" in page.js("document.querySelector('#task-detail p.why').textContent")
        tests = page.js(
            "[...document.querySelectorAll('#task-detail ul.failing-tests .fail-test')].map(s => s.textContent)"
        )
        order = list(dict.fromkeys(re.findall(r"^\s+def (test\w*)\(", mini.by_id["bcb-mini/24"].test, re.M)))
        assert tests == [t for t in order if t in tests] and len(tests) == len(FIXTURE["api-removed"]["details"])
        trace = page.js("document.querySelector('#task-detail ul.failing-tests pre').textContent")
        assert "out = out.append(row)" in trace and "AttributeError" in trace
        assert (
            "bcb/execution" not in trace
            and str(Path(__file__).resolve().parents[1]) not in trace
            and ".venv" not in trace
        )

        sides = page.js("[...document.querySelectorAll('#side-by-side pre.side')].map(p => p.dataset.entry)")
        assert sides == ["model-a", "model-b"]
        assert "out.append(row)" in page.js("document.querySelectorAll('#side-by-side pre.side')[0].textContent")
        choose("#pick-1", "0")
        assert page.js("[...document.querySelectorAll('#side-by-side pre.side')].map(p => p.dataset.entry)") == [
            "model-a",
            "model-a",
        ]
    finally:
        browser.close()


def _generated(page: str) -> str:
    return re.sub(r"generated \d{4}-\d\d-\d\d \d\d:\d\d UTC", "generated -", page)


def test_the_page_is_its_list_of_sections_and_a_new_one_is_one_entry(tmp_path: Path, mini: Dataset) -> None:
    """Every section of SECTIONS appears once, in order, linked from the navigation; a section
    added to the list appears where it is put, escaped, and changes nothing else on the page."""
    from bcb.analysis import SECTIONS, Section, build_report, load_runs, pair_runs, render_report, scope_for
    from bcb.dataset.domains import lib_domains_for

    ids = [t.task_id for t in mini]
    files = [
        bcb_file(
            tmp_path / f"{m}_eval_results.json",
            mini,
            {t: ["pass" if i < k else "fail"] for i, t in enumerate(ids)},
            model=m,
        )
        for m, k in (("one", 9), ("two", 4))
    ]
    entries = pair_runs(load_runs(files))
    data = build_report(entries, scope_for(entries, dataset=mini), mini, lib_domains_for(mini), resamples=100)
    page = render_report(data)
    expected = [s.id for s in SECTIONS]
    assert re.findall(r'<section id="([\w-]+)-section"><h2>', page) == expected
    assert re.findall(r'<a href="#([\w-]+)-section">', page.split("</nav>")[0]) == expected

    extra = Section("notes", "Reader's <notes>", "Notes & more", lambda r: f"<p>{len(r.board.rows)} model rows</p>")
    grown = render_report(data, sections=(SECTIONS[0], extra, *SECTIONS[1:]))
    assert re.findall(r'<section id="([\w-]+)-section"><h2>', grown) == [expected[0], "notes", *expected[1:]]
    added = '<section id="notes-section"><h2>Reader&#x27;s &lt;notes&gt;</h2>\n<p>2 model rows</p>\n</section>\n'
    link = '<a href="#notes-section">Notes &amp; more</a>'
    assert added in grown and link in grown
    assert _generated(grown.replace(added, "").replace(link, "")) == _generated(page)
