"""The command line starts without loading the heavy learning stack."""

from __future__ import annotations

import subprocess
import sys

from mql.cli import learn_commands
from mql.learn.public import RECIPES
from mql.learn.scorecard import MIN_IV

#: Modules that only the learning commands need, loaded when one of them runs.
HEAVY = ("sklearn", "mql.learn", "optbinning")


def test_importing_the_app_does_not_import_scikit_learn() -> None:
    code = (
        "import sys, mql.cli.app; "
        f"print(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == ""


def test_the_learn_help_constants_agree_with_mql_learn() -> None:
    assert learn_commands.RECIPE_NAMES == RECIPES
    assert learn_commands.DEFAULT_MIN_IV == MIN_IV
