"""One line per test file as it finishes (`make test`), instead of a screen of dots: the
file, how many of its tests passed, failed and were skipped, and how long it took."""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from typing import Any

import pytest


class FileProgress:
    def __init__(self, terminal: Any) -> None:
        self.terminal = terminal
        self.expected: Counter[str] = Counter()
        self.outcomes: defaultdict[str, Counter[str]] = defaultdict(Counter)
        self.started: dict[str, float] = {}

    def expect(self, node_ids: list[str]) -> None:
        if not self.expected:  # every xdist worker collects the same tests
            self.expected.update(node_id.split("::")[0] for node_id in node_ids)

    @pytest.hookimpl
    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        self.expect(ids)

    @pytest.hookimpl
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.expect([item.nodeid for item in session.items])

    @pytest.hookimpl
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        path = report.nodeid.split("::")[0]
        self.started.setdefault(path, time.monotonic())
        outcomes = self.outcomes[path]
        if report.failed:
            outcomes["failed"] += 1
        elif report.skipped and report.when != "teardown":
            outcomes["skipped"] += 1
        elif report.when == "call" and report.passed:
            outcomes["passed"] += 1
        if report.when == "teardown":
            outcomes["finished"] += 1
            if outcomes["finished"] == self.expected[path]:
                self._report(path, outcomes)

    def _report(self, path: str, outcomes: Counter[str]) -> None:
        seconds = time.monotonic() - self.started[path]
        parts = [f"{outcomes[kind]} {kind}" for kind in ("passed", "failed", "skipped")]
        shown = ", ".join(part for part in parts if not part.startswith("0 "))
        self.terminal.ensure_newline()
        self.terminal.write_line(f"{path:<52} {shown:<28} {seconds:6.1f} s")

    @pytest.hookimpl
    def pytest_report_teststatus(
        self, report: pytest.TestReport, config: pytest.Config
    ) -> tuple[str, str, str] | None:
        """No dot for a test that passed: the file's line counts it."""
        if report.when == "call" and report.passed:
            return "passed", "", "PASSED"
        return None


def register(config: pytest.Config) -> None:
    """Report per file, on the terminal of the run (xdist's controller, not its workers),
    unless the run asks for each test (-v)."""
    terminal = config.pluginmanager.get_plugin("terminalreporter")
    is_worker = hasattr(config, "workerinput")
    if terminal is not None and not is_worker and config.option.verbose <= 0:
        config.pluginmanager.register(FileProgress(terminal), "file-progress")
