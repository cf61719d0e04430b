"""Derives PostHog's current data-warehouse source types into schemas/source_types.json.

The list is the ``source_type`` enum of the ``ExternalDataSourcesCreateBody`` zod schema in
PostHog's own CLI bundle (``@posthog/cli`` 0.18.3, lib/posthog-api-cli.mjs), which is generated
from PostHog's current OpenAPI document (ExternalDataSourceTypeEnum). The data file holds the
names only, in the enum's order; the schema of external data sources refers to it.

    npm install --ignore-scripts @posthog/cli@0.18.3        # in a temporary folder
    python tools/derive_source_types.py BUNDLE              # rewrite the data file
    python tools/derive_source_types.py BUNDLE --check      # exit 1 if the data file is stale
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUTPUT = REPO / "schemas" / "source_types.json"
CLI = "@posthog/cli@0.18.3"
_BODY = "var ExternalDataSourcesCreateBody = () => object({"
_ENUM = re.compile(r"\s*source_type: _enum\d*\(\[(?P<names>[^\]]*)\]\)")
_NAME = re.compile(r'"([A-Za-z0-9_]+)"')


def source_types(bundle_text: str) -> list[str]:
    """The create body's source_type choices, in the bundle's order."""
    start = bundle_text.find(_BODY)
    if start < 0:
        raise SystemExit("the bundle has no ExternalDataSourcesCreateBody schema")
    found = _ENUM.match(bundle_text, start + len(_BODY))
    if not found:
        raise SystemExit("ExternalDataSourcesCreateBody does not open with a source_type enum")
    names = _NAME.findall(found["names"])
    if len(names) != len(set(names)):
        raise SystemExit("the source_type enum repeats a name")
    return names


def list_pattern(names: list[str]) -> str:
    """``?source_type=A,B`` as the wizard reads it: comma-separated, each item stripped, empty items
    skipped, every other item one of the names."""
    one = "(?:" + "|".join(names) + ")"
    return rf"^\s*(?:{one}\s*)?(?:,\s*(?:{one}\s*)?)*$"


def document(names: list[str]) -> dict:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "source_types.json",
        "title": "Data-warehouse source types",
        "$defs": {
            "SourceType": {
                "description": f"ExternalDataSourceTypeEnum: every source PostHog's data warehouse can "
                f"import ({len(names)}, from {CLI}; tools/derive_source_types.py).",
                "enum": names,
            },
            "SourceTypeList": {
                "description": "Comma-separated source types (the wizard's ?source_type=).",
                "type": "string",
                "pattern": list_pattern(names),
            },
        },
    }


def render(names: list[str]) -> str:
    return json.dumps(document(names), indent=2) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("bundle", type=Path, help="node_modules/@posthog/cli/lib/posthog-api-cli.mjs")
    parser.add_argument("--check", action="store_true", help="exit 1 if the data file is stale")
    options = parser.parse_args(argv)
    text = render(source_types(options.bundle.read_text(encoding="utf-8")))
    if options.check:
        if OUTPUT.read_text(encoding="utf-8") != text:
            print(f"{OUTPUT.relative_to(REPO)} is stale: run tools/derive_source_types.py", file=sys.stderr)
            return 1
        return 0
    OUTPUT.write_text(text, encoding="utf-8")
    print(f"{OUTPUT.relative_to(REPO)}: {len(json.loads(text)['$defs']['SourceType']['enum'])} source types")
    return 0


if __name__ == "__main__":
    sys.exit(main())
