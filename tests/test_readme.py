"""The README's promises: two commands, links that resolve, commands that exist."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer

from mql.cli.app import app
from mql.cli.reference import walk

REPO = Path(__file__).resolve().parent.parent
README = (REPO / "README.md").read_text(encoding="utf-8")
MAKEFILE = (REPO / "Makefile").read_text(encoding="utf-8")


@pytest.mark.parametrize("target", ["demo", "test"])
def test_the_two_commands_are_make_targets(target: str) -> None:
    assert f"make {target}" in README
    assert re.search(rf"^{target}:", MAKEFILE, flags=re.MULTILINE)


def test_make_demo_runs_the_demo() -> None:
    recipe = MAKEFILE.split("\ndemo:", 1)[1].split("\n\n", 1)[0]
    assert "mql demo" in recipe


@pytest.mark.parametrize(
    "link", sorted(set(re.findall(r"\]\(((?:docs|src)/[^)#]+)\)", README)))
)
def test_links_resolve(link: str) -> None:
    assert (REPO / link).exists(), f"README links to {link}, which does not exist"


@pytest.mark.parametrize(
    "path", ["docs/model.md", "docs/import.md", "docs/cli.md", "CHANGELOG.md"]
)
def test_the_documents_the_readme_names_exist(path: str) -> None:
    assert path in README or path == "CHANGELOG.md"
    assert (REPO / path).exists(), f"{path} is missing"


def _readme_commands() -> list[list[str]]:
    blocks = re.findall(r"```sh\n(.*?)```", README, flags=re.DOTALL)
    lines = [
        line.split("#", 1)[0].strip() for block in blocks for line in block.splitlines()
    ]
    return [line.split() for line in lines if line.startswith("mql ")]


def test_every_mql_command_in_the_readme_exists() -> None:
    known = {" ".join(path[1:]) for path, _ in walk(typer.main.get_command(app))}
    commands = _readme_commands()
    assert commands
    for words in commands:
        names = [w for w in words[1:] if not w.startswith("-")]
        assert names[0] in known or " ".join(names[:2]) in known, words


def test_the_data_attribution_is_named() -> None:
    for needed in ("Moro, Cortez & Rita", "CC BY 4.0", "NOTICE.md"):
        assert needed in README
