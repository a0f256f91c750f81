"""The examples in the scoring docstrings run."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "mql.scoring",
    "mql.scoring.account",
    "mql.scoring.compiled",
    "mql.scoring.conditions",
    "mql.scoring.decay",
    "mql.scoring.engine",
    "mql.scoring.events",
    "mql.model.bounds",
    "mql.model.loader",
    "mql.model.schema",
    "mql.yamlfile",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name: str):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
