"""Results in, understanding out: leaderboards, Elo, strengths by domain, library and stack,
run-to-run comparisons and the HTML report. The top layer: it reads results files and the dataset
and never runs anything."""

from bcb.analysis import errors
from bcb.analysis.compare import Comparison, Failure, Flip, compare, error_line
from bcb.analysis.elo import Rating, elo_ratings, fit_bradley_terry
from bcb.analysis.leaderboard import (
    FORMATS,
    KNOWN_REFERENCES,
    Leaderboard,
    Reference,
    Row,
    build_leaderboard,
    parse_reference,
    sort_rows,
)
from bcb.analysis.report import SECTIONS, ReportData, Section, StackRanking, build_report, render_report
from bcb.analysis.runs import (
    AnalysisError,
    DatasetChoice,
    Entry,
    Run,
    Scope,
    choose_dataset,
    dataset_mismatches,
    load_run,
    load_runs,
    pair_runs,
    scope_for,
)
from bcb.analysis.stats import McNemar, bootstrap_mean, mcnemar
from bcb.analysis.strengths import Breakdown, GroupScore, Stack, StackRank, breakdown, parse_stack, rank_on_stack

__all__ = [
    "FORMATS",
    "KNOWN_REFERENCES",
    "SECTIONS",
    "AnalysisError",
    "Breakdown",
    "Comparison",
    "DatasetChoice",
    "Entry",
    "Failure",
    "Flip",
    "GroupScore",
    "Leaderboard",
    "McNemar",
    "Rating",
    "Reference",
    "ReportData",
    "Row",
    "Run",
    "Scope",
    "Section",
    "Stack",
    "StackRank",
    "StackRanking",
    "bootstrap_mean",
    "breakdown",
    "build_leaderboard",
    "build_report",
    "choose_dataset",
    "compare",
    "dataset_mismatches",
    "elo_ratings",
    "errors",
    "error_line",
    "fit_bradley_terry",
    "load_run",
    "load_runs",
    "mcnemar",
    "pair_runs",
    "parse_reference",
    "parse_stack",
    "rank_on_stack",
    "render_report",
    "scope_for",
    "sort_rows",
]
