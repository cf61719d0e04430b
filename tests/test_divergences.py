"""docs/divergences.md lists the overlay's corrections in a section generated from overlay.toml."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from mockhog.spec import load_overlay
from mockhog.spec.derive import load_rules
from mockhog.spec.overlay import load_served

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tools"))

import derive_divergences  # noqa: E402 - a script under tools/, not a package


def test_the_page_lists_every_overlay_entry_with_its_reason():
    page = (REPO / "docs" / "divergences.md").read_text(encoding="utf-8")
    served = load_served()
    patches = load_rules()[1]
    wanted = derive_divergences.render(page, load_overlay(), served, patches)
    assert wanted == page, "run python tools/derive_divergences.py"
    generated = page.split(derive_divergences.BEGIN, 1)[1].split(derive_divergences.END, 1)[0]
    for fix in load_overlay():
        assert f"| `{fix['component']}` | `{fix['pointer']}` |" in generated
        assert " ".join(fix["why"].split()) in generated
    for entry in served:
        row = next(line for line in generated.splitlines() if derive_divergences._cell(entry.why) in line)
        assert row.startswith("| " + ", ".join(f"`{family}`" for family in entry.family) + " |")
        assert not entry.source or f"`{entry.source}`" in row
    for patch in patches:  # the derived schemas/ files: each patch with its reason
        pointer = patch["pointer"] or "(whole def)"
        head = f"| `{patch['file']}` | `{patch['def']}` | `{pointer}` | {patch['action']} |"
        rows = [line for line in generated.splitlines() if line.startswith(head)]
        assert any(derive_divergences._cell(patch["why"]) in row for row in rows), head


def test_the_api_schema_row_says_what_is_served():
    page = (REPO / "docs" / "divergences.md").read_text(encoding="utf-8")
    row = next(line for line in page.splitlines() if line.startswith("| `/api/schema/` |"))
    assert "mockhog's own" not in row and "overlay" in row and "x-mockhog-tier" in row


def test_the_hand_written_rest_stays():
    fix = {"component": "Property", "pointer": "/properties/type/default", "action": "remove", "why": "a | b"}
    page = "# Title\n\nhand-written\n\n## What mockhog cannot be\n\n- one user\n"
    once = derive_divergences.render(page, [fix])
    assert once.startswith("# Title\n\nhand-written\n\n" + derive_divergences.BEGIN)
    assert once.endswith(derive_divergences.END + "\n\n## What mockhog cannot be\n\n- one user\n")
    assert '| `Property` | `/properties/type/default` | `"AND"` | (removed) | a \\| b |' in once
    assert derive_divergences.render(once, [fix]) == once
    emptied = derive_divergences.render(once, [])
    assert "No corrections" in emptied and "`Property`" not in emptied
    assert emptied.endswith("## What mockhog cannot be\n\n- one user\n")


def test_check_mode_passes_on_the_committed_page():
    done = subprocess.run(
        [sys.executable, str(REPO / "tools" / "derive_divergences.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
