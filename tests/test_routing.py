"""The segment-trie router of the catalog's routes and the imported ones."""

from __future__ import annotations

import pytest

from mockhog.catalog import Catalog
from mockhog.routing import SegmentTrie, split


def trie(*templates: str) -> SegmentTrie[str]:
    routes: SegmentTrie[str] = SegmentTrie()
    for template in templates:
        routes.setdefault(template, template)
    return routes


def test_fixed_segments_win_over_parameters():
    routes = trie("persons/{id}/", "persons/values/", "persons/{id}/activity/")
    assert routes.match(split("persons/values/")) == ("persons/values/", {})
    assert routes.match(split("persons/7/")) == ("persons/{id}/", {"id": "7"})
    assert routes.match(split("persons/values/activity")) == ("persons/{id}/activity/", {"id": "values"})


def test_fewer_parameters_win_then_the_later_parameter():
    routes = trie("a/x/{p}/{q}/", "a/{id}/b/c/", "a/{x}/c/", "a/b/{y}/")
    assert routes.match(split("a/x/b/c/"))[0] == "a/{id}/b/c/"
    assert routes.match(split("a/b/c/"))[0] == "a/b/{y}/"


@pytest.mark.parametrize("path", ["exports//", "exports/1//", "//exports", "", "exports/1/x/"])
def test_no_match(path):
    assert trie("exports/", "exports/{id}/").match(split(path) or []) is None


def test_one_template_per_shape_the_first_kept():
    routes = trie("x/{id}/", "x/{key}/")
    assert routes.match(split("x/1")) == ("x/{id}/", {"id": "1"})


def test_the_catalog_routes_by_the_trie():
    catalog = Catalog.load()
    route, params = catalog.match("file_system/log_view/")
    assert params == {} and route.template == "file_system/log_view/"
    route, params = catalog.match("file_system/0196d0d0-0000-7000-8000-000000000001")
    assert route.template == "file_system/{id}/" and params == {"id": "0196d0d0-0000-7000-8000-000000000001"}
    assert catalog.match("users/@me/", root=True)[0].template == "users/{id}/"
    assert catalog.match("no_such_thing/") is None
