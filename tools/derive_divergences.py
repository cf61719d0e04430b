"""Writes the overlay's corrections of PostHog's OpenAPI document into docs/divergences.md.

mockhog/spec/overlay.toml holds each hand-verified correction of the imported contract with its
reason: the component fixes ([[fix]]), the patches the derived schemas/ files are made of
([[schema]], [[patch]]), and the reasons each served operation differs from PostHog's
document ([[served]]: the verified families' hand-checked schemas, and what the served document
adds to every operation). docs/divergences.md lists them in a generated section between two marker
lines, and the rest of the page stays hand-written. Reads only the repository (no ../shared).

    python tools/derive_divergences.py           # rewrite the generated section
    python tools/derive_divergences.py --check   # exit 1 if the section is stale
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from mockhog.spec import load_overlay  # noqa: E402 - the repository's own package, not an installed one
from mockhog.spec.derive import load_rules  # noqa: E402
from mockhog.spec.overlay import Served, load_served  # noqa: E402

PAGE = REPO / "docs" / "divergences.md"
OVERLAY = REPO / "mockhog" / "spec" / "overlay.toml"
BEGIN = "<!-- BEGIN overlay: generated from mockhog/spec/overlay.toml by tools/derive_divergences.py -->"
END = "<!-- END overlay -->"
HEADING = "## PostHog's OpenAPI document, corrected (the overlay)"


def section(
    fixes: list[dict[str, Any]], served: Sequence[Served] = (), derived: Sequence[dict[str, Any]] = ()
) -> str:
    """The generated section: one row per component fix (where, what mockhog serves instead, why),
    then one row per [[served]] entry (which operations and differences, the source, why)."""
    lines = [
        BEGIN,
        HEADING,
        "",
        "mockhog imports PostHog's OpenAPI document as published (`mockhog/spec/`) and serves it",
        "corrected only where an entry in `mockhog/spec/overlay.toml` gives the reason. `mockhog drift",
        "FILE` lists every difference under its entry against any PostHog document (on the pinned one,",
        "nothing else); `--posthog-schema FILE` re-applies the fixes; `tests/test_overlay.py` fails on a",
        "difference no entry explains and on an entry that explains none.",
        "",
        "### Component fixes",
        "",
    ]
    if not fixes:
        lines.append("No corrections: mockhog serves PostHog's document as published.")
    else:
        lines += ["| Component | Where | PostHog's document | mockhog | Why |", "|---|---|---|---|---|"]
        for fix in fixes:
            served_value = "(removed)" if fix["action"] == "remove" else f"`{_json(fix['value'])}`"
            where = f"`{fix['component']}` | `{fix['pointer']}`"
            lines.append(f"| {where} | {_was(fix)} | {served_value} | {_cell(fix['why'])} |")
    if served:
        lines += [
            "",
            "### Served operations",
            "",
            "How the operations mockhog serves differ from the same operations in PostHog's document:",
            "family `*` is every operation, `generic` the imported tier, any other a verified catalog",
            "resource (its schemas in `schemas/`, checked against the PostHog source named). A kind of",
            "difference is named from the document's side, as `mockhog drift` names it: *field added* is",
            "in PostHog's document and not served, *field removed* served and not in the document.",
            "",
            "| Family | Operations | Differences | Where | Fields | Source | Why |",
            "|---|---|---|---|---|---|---|",
        ]
        for entry in served:
            cells = [
                ", ".join(f"`{family}`" for family in entry.family),
                _codes(entry.names) or "all",
                ", ".join(entry.kinds) or "any",
                _codes(entry.where) or "anywhere",
                _codes(entry.fields) or "any",
                f"`{entry.source}`" if entry.source else "",
                _cell(entry.why),
            ]
            lines.append("| " + " | ".join(cells) + " |")
    if derived:
        lines += [
            "",
            "### Derived schemas",
            "",
            "These verified families' `schemas/` files are not written by hand: each is PostHog's imported",
            "component (after the fixes above) with these patches applied in order, by",
            "`tools/derive_schemas.py` (`--check` fails on a hand edit); `--posthog-schema FILE` derives",
            "them again from that document and says which patches no longer find their target.",
            "",
            "| File | Def | Pointer | Action | Source | Why |",
            "|---|---|---|---|---|---|",
        ]
        for patch in derived:
            source = f"`{patch['source']}`" if patch.get("source") else ""
            where = f"`{patch['file']}` | `{patch['def']}` | `{patch['pointer'] or '(whole def)'}`"
            lines.append(f"| {where} | {patch['action']} | {source} | {_cell(patch['why'])} |")
    lines.append(END)
    return "\n".join(lines) + "\n"


def _codes(values: Sequence[str]) -> str:
    return ", ".join(f"`{value}`" for value in values)


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


def render(
    page: str,
    fixes: list[dict[str, Any]],
    served: Sequence[Served] = (),
    derived: Sequence[dict[str, Any]] = (),
) -> str:
    """``page`` with its generated section replaced (or added before "What mockhog cannot be")."""
    generated = section(fixes, served, derived)
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
    wanted = render(page, load_overlay(OVERLAY), load_served(OVERLAY), load_rules(OVERLAY)[1])
    if args.check:
        if wanted != page:
            stale = f"{PAGE.relative_to(REPO)}: the overlay section is stale"
            print(f"{stale}: run python tools/derive_divergences.py", file=sys.stderr)
            return 1
        return 0
    if wanted != page:
        PAGE.write_text(wanted, encoding="utf-8")
        counts = f"{len(load_overlay(OVERLAY))} component fixes, {len(load_served(OVERLAY))} served entries"
        print(f"wrote {PAGE.relative_to(REPO)} ({counts})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
