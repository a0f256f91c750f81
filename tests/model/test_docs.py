"""The examples in docs/model.md are valid models; every template is described."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mql.model import TEMPLATES, parse_model

DOC = Path(__file__).resolve().parents[2] / "docs" / "model.md"
BLOCKS = [
    block
    for block in re.findall(r"```yaml\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    if block.startswith("name:")
]


def test_the_page_has_examples():
    assert len(BLOCKS) >= 1 + len(TEMPLATES)


@pytest.mark.parametrize("block", BLOCKS, ids=[b.split("\n")[0] for b in BLOCKS])
def test_each_example_loads(block: str):
    assert parse_model(block, source="docs/model.md").threshold > 0


@pytest.mark.parametrize("name", TEMPLATES)
def test_each_template_has_a_section(name: str):
    assert f"### {name}:" in DOC.read_text(encoding="utf-8")
