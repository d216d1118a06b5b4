"""The real CLI against the emulator over loopback HTTP: plan, apply, drift, stale plans, guards, faults."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from reconciler.emulator import RunningEmulator
from reconciler.emulator.config import READ_SCOPE

from .conftest import write_tools

Run = Callable[..., Any]


def names(emulator: RunningEmulator) -> list[str]:
    return sorted(str(t["name"]) for t in emulator.registry.all_tools())


def test_plan_apply_plan_converges(repo: Path, run: Run, emulator: RunningEmulator) -> None:
    write_tools(repo / "tools.d", 3)
    first = run("plan", "--detailed-exitcode")
    assert first.code == 2, first.err
    assert first.err.splitlines()[0] == f"target: {emulator.url}"
    assert "Plan: 3 to add, 0 to change, 0 to destroy." in first.out
    applied = run("apply", "--auto-approve")
    assert applied.code == 0, applied.err
    assert "Apply complete! Resources: 0 adopted, 3 added, 0 changed, 0 destroyed." in applied.err
    assert names(emulator) == ["tool_000", "tool_001", "tool_002"]
    again = run("plan", "--detailed-exitcode")
    assert again.code == 0, again.out + again.err
    assert "No changes. The registry matches tools.d." in again.out


@pytest.mark.parametrize("seed", [7, 11])
def test_apply_through_faults_lands_each_tool_exactly_once(
    repo: Path, run: Run, start_emulator: Callable[..., RunningEmulator], seed: int
) -> None:
    """15% 429, 10% 5xx and 20% answers lost after the write was committed: one apply still converges.
    (At 20%, 30 committed writes all keep their answers once in 800 runs; at 10% it was once in 24.)"""
    emulator = start_emulator(fault_429=0.15, fault_5xx=0.10, fault_drop_after_commit=0.20, seed=seed)
    write_tools(repo / "tools.d", 30)
    result = run("apply", "--auto-approve", "--parallelism", "8")
    assert result.code == 0, result.err
    counted = Counter(str(t["name"]) for t in emulator.registry.all_tools())
    assert counted == Counter(f"tool_{i:03d}" for i in range(30))
    assert emulator.stats.dropped_connections > 0, "the run must actually have lost some answers"
    assert run("plan", "--detailed-exitcode").code == 0


def test_an_edit_outside_git_is_drift_and_a_git_edit_is_not(repo: Path, run: Run, emulator: RunningEmulator) -> None:
    write_tools(repo / "tools.d", 2)
    assert run("apply", "--auto-approve").code == 0
    edited = next(t for t in emulator.registry.all_tools() if t["name"] == "tool_000")
    emulator.registry.put_raw({**edited, "description": "Changed in the admin UI.", "version": edited["version"] + 1})
    write_tools(repo / "tools.d", 2, description="Now does thing {i} better.")
    (repo / "tools.d" / "tool_000.yaml").write_text(
        (repo / "tools.d" / "tool_000.yaml").read_text().replace("Now does thing 0 better.", "Does thing 0.")
    )
    result = run("plan", "--detailed-exitcode", "--format", "json")
    assert result.code == 2
    changes = {c["name"]: c for c in json.loads(result.out)["changes"]}
    assert changes["tool_000"]["drift"] is True
    assert changes["tool_000"]["fields"][0]["before"] == "Changed in the admin UI."
    assert changes["tool_001"]["drift"] is False
    text = run("plan")
    assert "Changed outside of reconciler" in text.out


def test_a_stale_saved_plan_is_refused_and_nothing_is_written(repo: Path, run: Run, emulator: RunningEmulator) -> None:
    write_tools(repo / "tools.d", 3)
    assert run("apply", "--auto-approve").code == 0
    write_tools(repo / "tools.d", 3, description="Version two of {i}.")
    assert run("plan", "--out", "plan.json").code == 0
    victim = next(t for t in emulator.registry.all_tools() if t["name"] == "tool_001")
    emulator.registry.put_raw({**victim, "description": "Edited meanwhile.", "version": victim["version"] + 1})
    before = emulator.registry.all_tools()
    result = run("apply", "plan.json")
    assert result.code == 1
    assert "plan is stale" in result.err
    assert "tool_001: version 2 in the registry, 1 when planned" in result.err
    assert emulator.registry.all_tools() == before


def test_a_fresh_saved_plan_applies_exactly(repo: Path, run: Run, emulator: RunningEmulator) -> None:
    write_tools(repo / "tools.d", 2)
    assert run("plan", "--out", "plan.json").code == 0
    assert emulator.registry.all_tools() == []
    result = run("apply", "plan.json")
    assert result.code == 0, result.err
    assert names(emulator) == ["tool_000", "tool_001"]


def test_mass_delete_is_refused_unless_allowed_and_unmanaged_tools_survive(
    repo: Path, run: Run, emulator: RunningEmulator
) -> None:
    (repo / "reconciler.yaml").write_text("managed_by: reconciler\n")  # the only repository on this org
    write_tools(repo / "tools.d", 30)
    assert run("apply", "--auto-approve", "--parallelism", "8").code == 0
    emulator.registry.put_raw(
        {
            "name": "hand_made",
            "description": "Made in the UI.",
            "executionEndpoint": "https://x",
            "schema": {"type": "object"},
            "labels": {"team": "ops"},
        }
    )
    for i in range(1, 30):
        (repo / "tools.d" / f"tool_{i:03d}.yaml").unlink()
    refused = run("apply", "--auto-approve")
    assert refused.code == 1
    assert "deletes 29 of 30 managed tools" in refused.err
    assert "--allow-mass-delete" in refused.err
    assert len(emulator.registry.all_tools()) == 31
    allowed = run("apply", "--auto-approve", "--allow-mass-delete")
    assert allowed.code == 0, allowed.err
    assert names(emulator) == ["hand_made", "tool_000"]


def test_unmanaged_tool_is_adopted_not_duplicated(repo: Path, run: Run, emulator: RunningEmulator) -> None:
    write_tools(repo / "tools.d", 1)
    emulator.registry.put_raw(
        {"name": "tool_000", "description": "Old.", "executionEndpoint": "https://old", "schema": {"type": "object"}}
    )
    planned = run("plan", "--format", "json")
    assert json.loads(planned.out)["summary"]["adopt"] == 1
    assert run("apply", "--auto-approve").code == 0
    [tool] = emulator.registry.all_tools()
    assert tool["labels"]["managed-by"] == "reconciler"
    assert tool["description"] == "Does thing 0."


def test_audit_log_records_every_change(
    repo: Path, run: Run, emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_ACTOR", "octocat")
    monkeypatch.setenv("GITHUB_SHA", "abc123")
    write_tools(repo / "tools.d", 2)
    assert run("apply", "--auto-approve", "--audit-log", "audit.jsonl").code == 0
    records = [json.loads(line) for line in (repo / "audit.jsonl").read_text().splitlines()]
    assert sorted(r["name"] for r in records) == ["tool_000", "tool_001"]
    for record in records:
        assert record["action"] == "create"
        assert record["outcome"] == "ok"
        assert record["actor"] == "octocat"
        assert record["commit"] == "abc123"
        assert record["version_after"] == 1
        assert record["digest"].startswith("sha256:")
        assert record["correlation_id"]
        assert record["time"].endswith("Z") or "+00:00" in record["time"]


def test_a_failure_halfway_loses_nothing_and_a_rerun_converges(repo: Path, run: Run, emulator: RunningEmulator) -> None:
    write_tools(repo / "tools.d", 4)
    emulator.faults.inject("drop", times=40, methods=("POST",))
    failed = run("apply", "--auto-approve", "--parallelism", "1")
    assert failed.code == 1
    assert "failed" in failed.err
    emulator.faults.clear()
    assert run("apply", "--auto-approve").code == 0
    assert names(emulator) == [f"tool_{i:03d}" for i in range(4)]


def test_a_read_only_client_plans_and_its_apply_is_refused_naming_the_scope(
    repo: Path, run: Run, start_emulator: Callable[..., RunningEmulator]
) -> None:
    """A pull-request job needs only `ai:tool:read`; an apply with that client stops at the first refusal."""
    emulator = start_emulator(scopes=(READ_SCOPE,))
    write_tools(repo / "tools.d", 5)
    planned = run("plan", "--detailed-exitcode")
    assert planned.code == 2, planned.err
    assert "Plan: 5 to add, 0 to change, 0 to destroy." in planned.out
    refused = run("apply", "--auto-approve")  # at the default parallelism of 4
    assert refused.code == 1
    assert "the OAuth client needs the `ai:tool:write` scope" in refused.err
    assert "apply finished with 1 failed and 4 not attempted of 5 changes" in refused.err
    assert "Traceback" not in refused.err
    assert emulator.stats.by_status.get(403) == 1
    assert emulator.registry.all_tools() == []


def test_dry_run_writes_nothing(repo: Path, run: Run, emulator: RunningEmulator) -> None:
    write_tools(repo / "tools.d", 2)
    result = run("apply", "--dry-run")
    assert result.code == 0
    assert "Plan: 2 to add" in result.out
    assert emulator.registry.all_tools() == []


def test_apply_without_terminal_needs_auto_approve(repo: Path, run: Run, emulator: RunningEmulator) -> None:
    write_tools(repo / "tools.d", 1)
    result = run("apply")
    assert result.code == 1
    assert "--auto-approve" in result.err
    assert emulator.registry.all_tools() == []


def test_invalid_input_sends_nothing(repo: Path, run: Run, emulator: RunningEmulator) -> None:
    (repo / "tools.d" / "bad.yaml").write_text("name: x\ndescription: d\nendpoint: ftp://x\n")
    result = run("apply", "--auto-approve")
    assert result.code == 1
    assert "tools.d/bad.yaml:3:1" in result.err
    assert emulator.stats.requests == 0


def test_reconciler_yaml_sets_owner_pruning_and_sensitive_variables(
    repo: Path, run: Run, emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    (repo / "reconciler.yaml").write_text("managed_by: team-a\nprune: false\nsensitive_variables: [PARTNER]\n")
    monkeypatch.setenv("PARTNER", "partner-value-123")
    write_tools(repo / "tools.d", 2, description="Calls ${{PARTNER}} for {i}.")
    rendered = run("render")
    assert "partner-value-123" not in rendered.out
    assert "(sensitive)" in rendered.out
    assert run("apply", "--auto-approve").code == 0
    assert {t["labels"]["managed-by"] for t in emulator.registry.all_tools()} == {"team-a"}
    (repo / "tools.d" / "tool_001.yaml").unlink()
    kept = run("plan", "--detailed-exitcode", "--format", "json")
    assert kept.code == 0, kept.out
    [change] = json.loads(kept.out)["changes"]
    assert (change["action"], change["name"]) == ("keep", "tool_001")
    assert "pruning is off" in change["reason"]
    assert run("plan", "--detailed-exitcode").code == 0
    assert len(emulator.registry.all_tools()) == 2


def test_a_delete_resent_after_its_answer_was_lost_is_this_runs_own_in_the_audit_log(
    repo: Path, run: Run, emulator: RunningEmulator
) -> None:
    """A DELETE is safe to resend, so the client sends it again when its answer is lost; the second answer is
    404 because the first one landed. The audit log must not credit that delete to another writer."""
    (repo / "reconciler.yaml").write_text("managed_by: reconciler\n")  # the only repository on this org
    write_tools(repo / "tools.d", 4)
    assert run("apply", "--auto-approve").code == 0
    (repo / "tools.d" / "tool_003.yaml").unlink()
    emulator.faults.inject("drop_after_commit", methods=("DELETE",))
    result = run("apply", "--auto-approve", "--audit-log", "audit.jsonl")
    assert result.code == 0, result.err
    assert "another writer" not in result.err
    [record] = [json.loads(line) for line in (repo / "audit.jsonl").read_text().splitlines()]
    assert (record["action"], record["name"], record["outcome"]) == ("delete", "tool_003", "ok")
    assert record["written"] is not False  # this run's own DELETE made it (or cannot tell): never "another writer"
    assert names(emulator) == [f"tool_{i:03d}" for i in range(3)]


@pytest.mark.parametrize("version", [None, "2", 1.5, True], ids=["missing", "string", "fraction", "boolean"])
def test_a_live_tool_without_a_whole_version_is_refused_before_an_update_is_sent(
    repo: Path, run: Run, emulator: RunningEmulator, version: object
) -> None:
    """An update must send the version it read (DESIGN §4); a server that answers without one, or with another
    type, ended apply in 'internal error' (exit 3). It is refused with the tool's name, exit 1, nothing sent."""
    write_tools(repo / "tools.d", 1)
    assert run("apply", "--auto-approve").code == 0
    [tool] = emulator.registry.all_tools()
    emulator.registry.put_raw({**tool, "version": version})
    write_tools(repo / "tools.d", 1, description="Does thing {i} better.")
    writes = emulator.stats.by_method.get("PUT", 0)
    for argv in (["plan"], ["apply", "--auto-approve"]):
        result = run(*argv)
        assert result.code == 1, result.output
        assert "tool_000" in result.err
        assert "version" in result.err
        assert "internal error" not in result.err
    assert emulator.stats.by_method.get("PUT", 0) == writes


def test_a_managed_tool_whose_digest_label_was_removed_outside_git_is_drift(
    repo: Path, run: Run, emulator: RunningEmulator
) -> None:
    """Only the labels were edited, in the UI: the plan said 'changed in tools.d', which nobody did."""
    write_tools(repo / "tools.d", 1)
    assert run("apply", "--auto-approve").code == 0
    [tool] = emulator.registry.all_tools()
    labels = {k: v for k, v in tool["labels"].items() if k != "reconciler-digest"}
    emulator.registry.put_raw({**tool, "labels": labels, "description": "Edited.", "version": tool["version"] + 1})
    result = run("plan", "--detailed-exitcode", "--format", "json")
    assert result.code == 2, result.output
    [change] = json.loads(result.out)["changes"]
    assert (change["action"], change["drift"]) == ("update", True)
    assert change["reason"] == "edited outside of reconciler since the last apply"
    assert run("apply", "--auto-approve").code == 0
    assert run("plan", "--detailed-exitcode").code == 0


@pytest.mark.parametrize("target", ["tools", "data-actions"])
def test_the_order_of_a_type_list_is_no_change(repo: Path, run: Run, emulator: RunningEmulator, target: str) -> None:
    """JSON Schema reads `type: [string, number]` and `[number, string]` alike; a tools.d that wrote them in the
    other order (a reformat, an OpenAPI description regenerated) was planned as an update that changes nothing."""
    if target == "data-actions":
        emulator.actions.add_integration("AI Tools")
        (repo / "reconciler.yaml").write_text("target: data-actions\nintegration: AI Tools\n", encoding="utf-8")
    tool = """name: take_note
description: Takes a note.
endpoint: https://tools.example.com/notes
schema:
  type: object
  properties:
    note: {{type: {note}, description: The note}}
    tags: {{type: array, items: {{type: {tag}}}, description: Tags}}
"""
    (repo / "tools.d" / "note.yaml").write_text(
        tool.format(note="[string, number]", tag='[string, "null"]'), encoding="utf-8"
    )
    applied = run("apply", "--auto-approve")
    assert applied.code == 0, applied.err
    (repo / "tools.d" / "note.yaml").write_text(
        tool.format(note="[number, string]", tag='["null", string]'), encoding="utf-8"
    )

    plan = run("plan", "--detailed-exitcode", "--format", "json")

    assert plan.code == 0, plan.out
    assert json.loads(plan.out)["changes"] == []
    (repo / "tools.d" / "note.yaml").write_text(
        tool.format(note="[number, string, boolean]", tag='["null", string]'), encoding="utf-8"
    )
    changed = json.loads(run("plan", "--format", "json").out)["changes"]
    assert [f["path"] for c in changed for f in c["fields"] if "note" in f["path"]] != []  # another set is a change


def test_a_plan_made_with_tool_says_it_shows_only_part_of_the_changes(
    repo: Path, run: Run, emulator: RunningEmulator, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """`plan --tool tool_000` said "Plan: 0 to add, 1 to change, 0 to destroy." and, in the pull-request table,
    "Unchanged 0", with nothing to tell that tool_001's change in tools.d was left out: a reviewer of the saved
    plan took it for the whole picture. As Terraform's "Resource targeting is in effect", every form of a
    targeted plan (text, markdown, JSON, the saved plan shown again, and apply --tool) says so."""
    write_tools(repo / "tools.d", 2)
    assert run("apply", "--auto-approve").code == 0
    write_tools(repo / "tools.d", 2, description="Does thing {i} better.")
    saved = tmp_path_factory.mktemp("plans") / "plan.json"
    text = run("plan", "--tool", "tool_000", "--out", str(saved))
    assert text.code == 0, text.err
    warning = "--tool is in effect: this plan covers only tool_000"
    assert f"Warning: {warning}" in text.out
    assert warning in run("plan", "--tool", "tool_000", "--format", "markdown").out
    [said] = json.loads(run("plan", "--tool", "tool_000", "--format", "json").out)["warnings"]
    assert said.startswith(warning) and "plan without --tool" in said
    assert f"Warning: {warning}" in run("show", str(saved)).out
    applied = run("apply", "--tool", "tool_000", "--auto-approve")
    assert applied.code == 0, applied.err
    assert f"Warning: {warning}" in applied.out + applied.err
    whole = run("plan")
    assert "--tool is in effect" not in whole.out + whole.err
    assert "Plan: 0 to add, 1 to change, 0 to destroy." in whole.out  # tool_001's change, left out above


def test_a_nullable_parameter_that_validate_accepts_the_registry_takes(
    repo: Path, run: Run, emulator: RunningEmulator
) -> None:
    """`type: [string, "null"]` (a nullable parameter: JSON Schema's, and what OpenAI's strict mode asks of an
    optional field) passed validate and plan, and the emulator's registry answered the create 422 ("type
    'null'"): validate and the contract it checks disagreed. Both take it; a type outside the matrix still fails."""
    (repo / "tools.d" / "note.yaml").write_text(
        "name: take_note\ndescription: Takes a note.\nendpoint: https://tools.example.com/notes\n"
        'schema:\n  type: object\n  properties:\n    note: {type: [string, "null"], description: The note}\n'
        "  required: [note]\n",
        encoding="utf-8",
    )

    validated = run("validate")
    applied = run("apply", "--auto-approve")

    assert validated.code == 0, validated.out
    assert applied.code == 0, applied.err
    [tool] = emulator.registry.all_tools()
    assert tool["schema"]["properties"]["note"]["type"] == ["string", "null"]
    assert run("plan", "--detailed-exitcode").code == 0


def test_a_parameter_of_type_null_alone_is_refused_by_validate_as_by_the_registry(repo: Path, run: Run) -> None:
    (repo / "tools.d" / "note.yaml").write_text(
        "name: take_note\ndescription: Takes a note.\nendpoint: https://tools.example.com/notes\n"
        'schema:\n  type: object\n  properties:\n    note: {type: "null", description: Nothing}\n',
        encoding="utf-8",
    )
    result = run("validate")
    assert result.code == 1
    assert "tools.d/note.yaml:7" in result.out and "unsupported type 'null'" in result.out, result.out
