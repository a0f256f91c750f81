"""The lifecycle configuration file: validated, with the line of each problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from mql.errors import LifecycleError
from mql.lifecycle.config import load_config, parse_config

from .conftest import CONFIG


def test_the_example_configuration_loads() -> None:
    config = parse_config(CONFIG)
    assert [o.id for o in config.owners] == ["ana", "ben", "cho"]
    assert config.sla.hours == 4
    assert not config.approval.auto


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "owners:\n  - id: ana\n    capacity: 0\n",
            r"x.yaml:3: owners.0.capacity: Input should be greater than or equal to 1",
        ),
        (
            "owners:\n  - id: ana\n    capacty: 3\n",
            r"x.yaml:3: owners.0.capacty: unknown key",
        ),
        (
            "owners: [{id: ana}]\nrouting:\n  rules:\n    - name: r\n"
            "      when: {a: 1}\n      owners: [zed]\n",
            r"^x.yaml:6: routing.rules.0.owners.0: routing rule 'r' names unknown "
            r"owner 'zed'; declare it under owners: \(known: \['ana'\]\)$",
        ),
        ("sla:\n  days: [mon, funday]\n", r"x.yaml:2: sla.days: unknown day names"),
        (
            "webhooks:\n  - name: crm\n    url: http://127.0.0.1:1/\n",
            r"x.yaml:2: webhooks.0: give exactly one of secret or secret_env",
        ),
        ("owners: [\n", r"x.yaml:2: not valid YAML"),
        ("sla: {hours: 1}\nsla: {hours: 2}\n", r"x.yaml:2: key 'sla' appears twice"),
    ],
)
def test_problems_name_file_line_and_field(text: str, message: str) -> None:
    with pytest.raises(LifecycleError, match=message):
        parse_config(text, source="x.yaml")


def test_missing_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(LifecycleError, match="cannot read the lifecycle configuration"):
        load_config(tmp_path / "nope.yaml")


def test_secrets_are_masked_and_read_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = parse_config(
        "webhooks:\n  - {name: a, url: 'http://127.0.0.1/', secret: s3cret}\n"
        "  - {name: b, url: 'http://127.0.0.1/', secret_env: HOOK_SECRET}\n"
    )
    assert "s3cret" not in repr(config)
    assert config.webhooks[0].secret_bytes() == b"s3cret"
    monkeypatch.delenv("HOOK_SECRET", raising=False)
    with pytest.raises(LifecycleError, match="HOOK_SECRET is not set"):
        config.webhooks[1].secret_bytes()
    monkeypatch.setenv("HOOK_SECRET", "from-env")
    assert config.webhooks[1].secret_bytes() == b"from-env"
