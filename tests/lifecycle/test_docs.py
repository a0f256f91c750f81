"""The signature check shown in docs/lifecycle.md works on what the dispatcher sends."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

from mql.lifecycle.signing import sign

DOC = Path(__file__).resolve().parents[2] / "docs" / "lifecycle.md"


def _snippet() -> str:
    text = DOC.read_text(encoding="utf-8")
    section = text[text.index("### Verifying a signature") :]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match is not None
    return match.group(1)


def test_the_documented_verification_accepts_and_refuses() -> None:
    namespace: dict[str, Any] = {}
    exec(_snippet(), namespace)
    verify = namespace["verify"]
    body = b'{"id":"m1","kind":"lead.stage_changed"}'
    header = sign(b"secret", body, int(time.time()))
    assert verify(b"secret", body, header)
    assert not verify(b"wrong", body, header)
    assert not verify(b"secret", body + b"x", header)
    old = sign(b"secret", body, int(time.time()) - 3600)
    assert not verify(b"secret", body, old)


def test_every_command_is_in_the_docs() -> None:
    text = DOC.read_text(encoding="utf-8")
    for command in (
        "mql history",
        "mql handoffs list",
        "mql handoffs approve",
        "mql handoffs reject",
        "mql handoffs export",
        "mql accept",
        "mql decline",
        "mql bant",
        "mql opportunity",
        "mql won",
        "mql lost",
        "mql move",
        "mql lifecycle sync",
        "mql lifecycle dispatch",
        "mql lifecycle run",
        "mql funnel",
    ):
        assert f"`{command}" in text, command
