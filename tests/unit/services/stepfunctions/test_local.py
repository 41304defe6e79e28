"""`headwater sfn run` and `headwater sfn validate`."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from headwater.cli import main


def write(tmp_path: Path, definition: object) -> str:
    path = tmp_path / "machine.json"
    path.write_text(json.dumps(definition))
    return str(path)


def test_run_prints_the_output(tmp_path: Path) -> None:
    path = write(tmp_path, {"StartAt": "W", "States": {
        "W": {"Type": "Wait", "Seconds": 86400, "Next": "P"},
        "P": {"Type": "Pass", "Parameters": {"hi.$": "$.name"}, "End": True}}})
    result = CliRunner().invoke(main, ["sfn", "run", path, "--input", '{"name": "x"}'])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"hi": "x"}


def test_run_with_history_and_failure(tmp_path: Path) -> None:
    path = write(tmp_path, {"StartAt": "F", "States": {
        "F": {"Type": "Fail", "Error": "Oops", "Cause": "because"}}})
    (tmp_path / "in.json").write_text("[1]")
    result = CliRunner().invoke(main, ["sfn", "run", path, "--history", "--type", "EXPRESS",
                                       "--input", f"@{tmp_path / 'in.json'}"])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert json.loads(lines[0])["type"] == "ExecutionStarted"
    assert "FAILED: Oops" in result.output


def test_validate(tmp_path: Path) -> None:
    good = write(tmp_path, {"StartAt": "A", "States": {"A": {"Type": "Succeed"}}})
    result = CliRunner().invoke(main, ["sfn", "validate", good])
    assert result.exit_code == 0 and json.loads(result.output)["result"] == "OK"
    bad = write(tmp_path, {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Z"}}})
    result = CliRunner().invoke(main, ["sfn", "validate", bad])
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert report["diagnostics"][0]["code"] == "MISSING_TRANSITION_TARGET"
