"""Which rows each table finds by which value: PostHog's database indexes, declared as data.

``INDEXES`` gives the store each table's secondary indexes (the primary key, ``id`` or a
resource's ``key_field``, is the table's own dict). ``LIST_FILTERS`` says which list query
parameters PostHog answers from one of them, so a filtered list starts from the index's rows
instead of scanning the table. Unique indexes are declared where mockhog's own writes keep the
key unique (PostHog's unique constraints); elsewhere a lookup index answers the same queries
without refusing a write that PostHog's serializer, not its database, would refuse.
"""

from __future__ import annotations

from collections.abc import Iterator

from .store import Index


def folders_above(path: str) -> Iterator[str]:
    """Every text before a ``/`` in ``path``: the values ``parent`` for which ``path`` is under
    ``parent`` in PostHog's own test, ``path.startswith(parent + "/")`` (``path__startswith``)."""
    for position, char in enumerate(path):
        if char == "/":
            yield path[:position]


INDEXES: dict[str, tuple[Index, ...]] = {
    # Person.uuid, PersonDistinctId's unique (team, distinct_id)
    "persons": (Index("uuid", unique=True), Index("distinct_ids", unique=True, each=True)),
    # Group's unique (team, group_key, group_type_index); lists always filter on the type index
    "groups": (
        Index(("group_type_index", "group_key"), unique=True, name="group"),
        Index("group_type_index"),
    ),
    # FileSystem: (team, path), (team, depth), (team, type, ref); a B-tree on path also answers
    # path__startswith, which "under" answers here
    "file_system": (
        Index("path"),
        Index("path", derive=folders_above, name="under"),
        Index("depth"),
        Index("type"),
        Index(("type", "ref"), name="type_ref"),
    ),
    # EventDefinition's unique (team, name)
    "event_definitions": (Index("name"),),
    # Insight's (team, short_id) and FeatureFlag's (team, key): the tables' writers check them
    "insights": (Index("short_id"),),
    "feature_flags": (Index("key"),),
}

# table -> {query parameter, or parameters that make a composite key: index name}
LIST_FILTERS: dict[str, dict[str | tuple[str, ...], str]] = {
    "persons": {"distinct_id": "distinct_ids"},
    "groups": {"group_type_index": "group_type_index"},
    "file_system": {
        "path": "path",
        "parent": "under",
        "depth": "depth",
        "type": "type",
        ("type", "ref"): "type_ref",
    },
}
