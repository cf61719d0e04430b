"""What `pip install mockhog` ships: the code, its data (schemas, fixtures, catalog) and entry points."""

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_wheel_carries_data_and_entry_points(tmp_path):
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    wheel = next(tmp_path.glob("mockhog-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    schemas = {f"mockhog/schemas/{path.name}" for path in (ROOT / "schemas").glob("*.json")}
    assert schemas <= names
    assert {"mockhog/fixtures/default.json", "mockhog/catalog.toml"} <= names
    entry_points = (
        zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
    )
    assert "mockhog = mockhog.cli:main" in entry_points
    assert "[pytest11]" in entry_points and "mockhog.pytest_plugin" in entry_points
