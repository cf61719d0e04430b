"""The viewset table (mockhog/spec/viewsets.toml): its keys in DRF's terms, the order both tiers
share, and rows that name real tables."""

from __future__ import annotations

import tomllib

import pytest

from mockhog.catalog import Catalog
from mockhog.spec import Spec
from mockhog.spec.viewsets import VIEWSETS, VIEWSETS_FILE, Upsert, load_viewsets, order_rows


def test_an_unknown_key_is_refused(tmp_path):
    path = tmp_path / "viewsets.toml"
    path.write_text('[viewsets.actions]\nsoft_deleted = "forbid_destroy"\n')
    with pytest.raises(ValueError, match=r"viewsets\.actions: unknown key 'soft_deleted'"):
        load_viewsets(path)


def test_a_soft_delete_kind_is_one_of_two(tmp_path):
    path = tmp_path / "viewsets.toml"
    path.write_text("[viewsets.actions]\nsoft_delete = true\n")
    with pytest.raises(ValueError, match="soft_delete"):
        load_viewsets(path)


def test_every_row_names_a_table_mockhog_serves():
    catalog_tables = set(Catalog.load().resources)
    generic_tables = {op.table for op in Spec.load().operations}
    assert set(VIEWSETS) <= catalog_tables | generic_tables, set(VIEWSETS) - catalog_tables - generic_tables


def test_every_row_says_why():
    rows = tomllib.loads(VIEWSETS_FILE.read_text())["viewsets"]
    assert all(row.get("why") for row in rows.values())


def test_the_rows_read_as_drf_terms():
    folder = VIEWSETS["persisted_folder"]
    assert folder.owner == "_user" and folder.ordering == ("Lower(type)",)
    assert folder.upsert == Upsert(lookup=("type",), defaults=("protocol", "path"))
    assert VIEWSETS["annotations"].page_size == 1000
    assert VIEWSETS["actions"].soft_delete == "forbid_destroy" and VIEWSETS["actions"].retrieve_deleted


def test_order_rows_is_a_querysets_order():
    rows = [
        {"id": 1, "name": "beta", "at": "2024-01-02"},
        {"id": 2, "name": "Alpha", "at": None},
        {"id": 3, "name": "alpha", "at": "2024-01-03"},
    ]
    assert [r["id"] for r in order_rows(rows, ("Lower(name)", "id"))] == [2, 3, 1]
    assert [r["id"] for r in order_rows(rows, ("-at", "id"))] == [3, 1, 2]  # None sorts first
    assert [r["id"] for r in order_rows(rows, ("name",))] == [2, 3, 1]  # case-sensitive: "A" < "a"
