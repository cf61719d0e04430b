"""Writes the derived verified-family schemas: schemas/<file> = PostHog's imported components
(mockhog/spec/components.json, with the [[fix]] corrections) + the overlay's reasoned [[patch]]
entries (mockhog/spec/overlay.toml, [[schema]] names each file; mockhog/spec/derive.py applies
them). Reads only the repository (no ../shared).

    python tools/derive_schemas.py           # rewrite the derived files
    python tools/derive_schemas.py --check   # exit 1 if one differs from its derivation (a hand edit)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from mockhog.spec import Spec  # noqa: E402 - the repository's own package, not an installed one
from mockhog.spec.derive import derived_files, dumps  # noqa: E402

SCHEMAS = REPO / "schemas"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--check", action="store_true", help="exit 1 if a derived file is stale")
    args = parser.parse_args(argv)
    stale = []
    for name, derivation in derived_files(Spec.load().components).items():
        path, text = SCHEMAS / name, dumps(derivation.document)
        if path.exists() and path.read_text(encoding="utf-8") == text:
            continue
        stale.append(name)
        if not args.check:
            path.write_text(text, encoding="utf-8")
            print(f"wrote schemas/{name}")
    if args.check and stale:
        names = ", ".join(f"schemas/{name}" for name in stale)
        print(f"{names}: not the overlay's derivation: run python tools/derive_schemas.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
