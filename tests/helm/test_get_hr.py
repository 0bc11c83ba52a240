"""`fluxpush get hr --sandbox` shows each release's chart, resolved version, revision and status."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.integration


@pytest.fixture
def cli(run_cli, example_repo, tmp_path, monkeypatch):
    monkeypatch.setenv("FLUXPUSH_CACHE_DIR", str(tmp_path / "chart-cache"))
    state = tmp_path / "sandbox.json"

    def run(*args: str):
        return run_cli(*args, "--repo", str(example_repo), "--path", "clusters/dev", "--sandbox",
                       "--sandbox-state", str(state))

    return run


def test_get_hr_shows_the_installed_release(cli):
    before = cli("get", "hr", "-o", "json")
    assert before.code == 0, before.err
    assert json.loads(before.out)[0]["live"]["status"] == "not installed"

    applied = cli("apply")
    assert applied.code == 0, applied.out + applied.err

    table = cli("get", "hr")
    assert table.code == 0, table.err
    live_rows = table.out.split("\n\n")[1].splitlines()
    assert live_rows[0].split() == ["NAME", "NAMESPACE", "CHART", "VERSION", "REVISION", "STATUS", "READY",
                                    "REASON"]
    assert live_rows[1].split() == ["external-secrets", "external-secrets", "external-secrets", "0.9.20", "1",
                                    "deployed", "True", "ReconciliationSucceeded"]
