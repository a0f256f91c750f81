"""The demo on real public data: the UCI Bank Marketing contacts scored by mql."""

from mql.demo.bank import BankFiles, write_files
from mql.demo.compare import Comparison, compare
from mql.demo.report import DemoReport, Reason
from mql.demo.runner import run_demo

__all__ = [
    "BankFiles",
    "Comparison",
    "DemoReport",
    "Reason",
    "compare",
    "run_demo",
    "write_files",
]
