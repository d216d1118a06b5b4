"""`reconciler plan` end to end, compared byte for byte with tests/e2e/golden/: what a user reads (text,
markdown, json) and the saved plan file, for every kind of change the differ, the digests and the source labels
decide (a `required` in another order, drift, adopt, delete, keep, small floats and booleans, a dotted label,
a moved file, a linked file and folder, ignore_changes, a default the server fills, an OpenAPI source).

The live state is made by a real apply of an earlier tools.d, then edited in the registry as a user would.
Ids are uuids and the port is random: both are replaced by stable placeholders before comparing.
After an intended change of output, regenerate with `UPDATE_GOLDEN=1 .venv/bin/pytest tests/e2e/test_plan_golden.py`
and review the diff of the golden files like any other change.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from reconciler.emulator import RunningEmulator

Run = Callable[..., Any]
GOLDEN = Path(__file__).parent / "golden"
ENDPOINT = "https://tools.example.com/api/v1/"

EARLIER = {
    "tools.d/plain/same.yaml": f"""name: same
description: Never changes.
endpoint: {ENDPOINT}same
parameters:
  sku: {{type: string, description: Product code, required: true}}
  site: {{type: string, description: Site, required: true}}
context: {{user_id: conversation.user_id}}
""",
    "tools.d/plain/edited.yaml": f"""name: edited
description: Checked inventory.
endpoint: {ENDPOINT}edited
parameters:
  sku: {{type: string, description: SKU, required: true}}
  status: {{type: string, enum: [open, shipped], description: Filter}}
rate_limit: {{requests_per_minute: 30, burst_size: 10}}
labels: {{team: commerce, app.example.com/tier: gold}}
""",
    "tools.d/plain/drifted.yaml": f"""name: drifted
description: Written by git.
endpoint: {ENDPOINT}drifted
""",
    "tools.d/plain/gone.yaml": f"""name: gone
description: Removed from tools.d.
endpoint: {ENDPOINT}gone
""",
    "tools.d/plain/guarded.yaml": f"""name: guarded
description: Protected, removed from tools.d.
endpoint: {ENDPOINT}guarded
protected: true
""",
    "tools.d/numbers.yaml": f"""name: numbers
description: Small floats and booleans.
endpoint: {ENDPOINT}numbers
schema:
  type: object
  properties:
    ratio: {{type: number, description: Ratio, minimum: 0.00001, maximum: 1.0e+20, multipleOf: 1.5e-7}}
    strict: {{type: boolean, default: true, description: Strict}}
    level: {{type: number, enum: [1, 2, 3], description: Level}}
  required: [ratio, level]
""",
    "tools.d/old-folder/moved.yaml": f"""name: moved
description: Only its file moves.
endpoint: {ENDPOINT}moved
""",
    "tools.d/ignored.yaml": f"""name: ignored
description: Described in git.
endpoint: {ENDPOINT}ignored
ignore_changes: [description]
""",
    "tools.d/defaults.yaml": f"""name: defaults
description: The server fills its rate limit.
endpoint: {ENDPOINT}defaults
""",
    "shared/linked.yaml": f"""name: linked
description: Read through a link.
endpoint: {ENDPOINT}linked
parameters:
  q: {{type: string, description: Query, required: true}}
""",
    "specs/orders.yaml": """openapi: 3.0.3
info: {title: Orders, version: '1'}
paths:
  /orders/{id}:
    get:
      operationId: getOrder
      summary: Look up one order.
      parameters:
        - {name: id, in: path, required: true, schema: {type: string}}
      responses:
        '200':
          description: The order.
          content:
            application/json:
              schema: {type: object, properties: {total: {type: number}}}
""",
    "tools.d/orders.yaml": f"""source:
  openapi: ../specs/orders.yaml
  endpoint_base: {ENDPOINT}orders
""",
}

NOW = {
    "tools.d/plain/edited.yaml": f"""name: edited
description: Checks real-time inventory levels.
endpoint: {ENDPOINT}edited
parameters:
  sku: {{type: string, description: Product stock keeping unit, required: true}}
  status: {{type: string, enum: [shipped, open], description: Filter}}
rate_limit: {{requests_per_minute: 60, burst_size: 10}}
labels: {{team: commerce, app.example.com/tier: platinum}}
""",
    "tools.d/numbers.yaml": f"""name: numbers
description: Small floats and booleans.
endpoint: {ENDPOINT}numbers
schema:
  type: object
  properties:
    ratio: {{type: number, description: Ratio, minimum: 0.00002, maximum: 1.0e+20, multipleOf: 1.5e-7}}
    strict: {{type: boolean, default: false, description: Strict}}
    level: {{type: number, enum: [1.0, 2, 3], description: Level}}
  required: [ratio, level]
""",
    "tools.d/new-folder/moved.yaml": EARLIER["tools.d/old-folder/moved.yaml"],
    "tools.d/adopted.yaml": f"""name: adopted
description: Taken over from the UI.
endpoint: {ENDPOINT}adopted
labels: {{team: ops}}
""",
    "shared/more/created.yaml": f"""name: created
description: New, in a linked folder.
endpoint: {ENDPOINT}created
parameters:
  when: {{type: string, format: date-time, description: "Café ☕ at noon\\ttab", required: true}}
""",
}
GONE = ("tools.d/plain/gone.yaml", "tools.d/plain/guarded.yaml", "tools.d/old-folder/moved.yaml")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def write(repo: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = repo / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def stable(text: str, emulator: RunningEmulator) -> str:
    """Ids as ID-1, ID-2… in order of first appearance, the emulator's address as EMULATOR."""
    ids: dict[str, str] = {}
    text = UUID.sub(lambda m: ids.setdefault(m[0], f"ID-{len(ids) + 1}"), text)
    text = text.replace(emulator.url, "EMULATOR").replace(emulator.url.removeprefix("http://"), "EMULATOR")
    # the saved plan's own digest covers the ids; each change's digest (of what it sends) is kept
    return re.sub(r'^  "digest": "sha256:[0-9a-f]{64}"', '  "digest": "sha256:(of the ids)"', text, flags=re.MULTILINE)


@pytest.fixture
def planned(
    repo: Path, run: Run, start_emulator: Callable[..., RunningEmulator], monkeypatch: pytest.MonkeyPatch
) -> tuple[Path, RunningEmulator]:
    emulator = start_emulator(default_rate_limit={"requestsPerMinute": 300, "burstSize": 50})
    (repo / "reconciler.yaml").write_text("managed_by: reconciler\n")  # the only repository on this org
    write(repo, EARLIER)
    os.symlink(repo / "shared" / "linked.yaml", repo / "tools.d" / "linked.yaml")
    applied = run("apply", "--auto-approve")
    assert applied.code == 0, applied.output
    for name in GONE:
        (repo / name).unlink()
    write(repo, NOW)
    os.symlink(repo / "shared" / "more", repo / "tools.d" / "more")
    by_name = {tool["name"]: tool for tool in emulator.registry.all_tools()}
    same = by_name["same"]
    same["schema"]["required"] = list(reversed(same["schema"]["required"]))  # the same set: no change
    edits = [
        same,
        {**by_name["drifted"], "description": "Edited in the UI."},
        {**by_name["ignored"], "description": "Described in the UI."},
    ]
    for tool in edits:
        emulator.registry.put_raw({**tool, "version": tool["version"] + 1})
    emulator.registry.put_raw(
        {
            "id": "0b6f3c2e-0000-4000-8000-0000000000ad",
            "name": "adopted",
            "description": "Made in the UI.",
            "executionEndpoint": f"{ENDPOINT}adopted",
            "schema": {"type": "object", "properties": {}},
            "labels": {"team": "ops"},
            "version": 4,
        }
    )
    return repo, emulator


@pytest.mark.parametrize("output_format", ["text", "markdown", "json"])
def test_plan_matches_golden(planned: tuple[Path, RunningEmulator], run: Run, output_format: str) -> None:
    _, emulator = planned
    result = run("plan", "--format", output_format, "--detailed-exitcode", "--no-color")
    assert result.code == 2, result.output
    compare(f"plan.{ {'text': 'txt', 'markdown': 'md', 'json': 'json'}[output_format] }", stable(result.out, emulator))


def test_saved_plan_matches_golden(planned: tuple[Path, RunningEmulator], run: Run) -> None:
    repo, emulator = planned
    result = run("plan", "--out", "plan.json")
    assert result.code == 0, result.output
    compare("saved-plan.json", stable((repo / "plan.json").read_text(encoding="utf-8"), emulator))


def compare(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(text.encode("utf-8"))
    assert path.exists(), f"no golden file {path.name}; run with UPDATE_GOLDEN=1 to create it"
    assert text == path.read_bytes().decode("utf-8")
