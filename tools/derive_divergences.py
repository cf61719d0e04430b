"""Writes the overlay's corrections of PostHog's OpenAPI document into docs/divergences.md.

mockhog/spec/overlay.toml holds each hand-verified correction of the imported contract with its
reason; docs/divergences.md lists them in a generated section between two marker lines, and the rest
of the page stays hand-written. Reads only the repository (no ../shared).

    python tools/derive_divergences.py           # rewrite the generated section
    python tools/derive_divergences.py --check   # exit 1 if the section is stale
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from mockhog.spec import load_overlay  # noqa: E402 - the repository's own package, not an installed one

PAGE = REPO / "docs" / "divergences.md"
OVERLAY = REPO / "mockhog" / "spec" / "overlay.toml"
BEGIN = "<!-- BEGIN overlay: generated from mockhog/spec/overlay.toml by tools/derive_divergences.py -->"
END = "<!-- END overlay -->"
HEADING = "## PostHog's OpenAPI document, corrected (the overlay)"


def section(fixes: list[dict[str, Any]]) -> str:
    """The generated section: one row per fix (where, what mockhog serves instead, why)."""
    lines = [
        BEGIN,
        HEADING,
        "",
        "mockhog imports PostHog's OpenAPI document as published (`mockhog/spec/`) and corrects it only",
        "where a fix in `mockhog/spec/overlay.toml` gives the reason. `mockhog drift FILE` lists these",
        "same corrections against any PostHog document; `--posthog-schema FILE` re-applies them.",
        "",
    ]
    if not fixes:
        lines.append("No corrections: mockhog serves PostHog's document as published.")
    else:
        lines += ["| Component | Where | PostHog's document | mockhog | Why |", "|---|---|---|---|---|"]
        for fix in fixes:
            served = "(removed)" if fix["action"] == "remove" else f"`{_json(fix['value'])}`"
            where = f"`{fix['component']}` | `{fix['pointer']}`"
            lines.append(f"| {where} | {_was(fix)} | {served} | {_cell(fix['why'])} |")
    lines.append(END)
    return "\n".join(lines) + "\n"


def _was(fix: dict[str, Any]) -> str:
    """What PostHog's document says there, from the committed import (facts only)."""
    components = json.loads((OVERLAY.parent / "components.json").read_text(encoding="utf-8"))["components"]
    node: Any = components.get(fix["component"], {})
    for part in fix["pointer"].strip("/").split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        node = node.get(part) if isinstance(node, dict) else None
    return "(absent)" if node is None else f"`{_json(node)}`"


def _json(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= 80 else text[:79] + "…"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def render(page: str, fixes: list[dict[str, Any]]) -> str:
    """``page`` with its generated section replaced (or added before "What mockhog cannot be")."""
    generated = section(fixes)
    if BEGIN in page and END in page:
        head, rest = page.split(BEGIN, 1)
        tail = rest.split(END, 1)[1].lstrip("\n")
        return head + generated + ("\n" + tail if tail else "")
    anchor = "## What mockhog cannot be"
    if anchor in page:
        head, tail = page.split(anchor, 1)
        return head + generated + "\n" + anchor + tail
    return page.rstrip("\n") + "\n\n" + generated


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--check", action="store_true", help="exit 1 if docs/divergences.md is stale")
    args = parser.parse_args(argv)
    page = PAGE.read_text(encoding="utf-8")
    wanted = render(page, load_overlay(OVERLAY))
    if args.check:
        if wanted != page:
            stale = f"{PAGE.relative_to(REPO)}: the overlay section is stale"
            print(f"{stale}: run python tools/derive_divergences.py", file=sys.stderr)
            return 1
        return 0
    if wanted != page:
        PAGE.write_text(wanted, encoding="utf-8")
        print(f"wrote {PAGE.relative_to(REPO)} ({len(load_overlay(OVERLAY))} overlay corrections)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
