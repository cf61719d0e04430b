"""One router for the catalog's routes and the imported ones: a trie over path segments.

A template is a list of segments, each fixed (``dashboards``) or a parameter (``{id}``). A request
path walks the trie segment by segment, so finding its route costs the path's length, not the
number of routes. Where two templates match one path, the one with fewer parameters wins, then
the one whose fixed segments come first: DRF's router puts an action's fixed segment before a
lookup (``persons/values/`` is not person "values").
"""

from __future__ import annotations

import re
from typing import Generic, TypeVar

T = TypeVar("T")
PARAM = re.compile(r"^\{(\w+)\}$")


class _Node(Generic[T]):
    __slots__ = ("fixed", "param", "value", "names")

    def __init__(self) -> None:
        self.fixed: dict[str, _Node[T]] = {}
        self.param: _Node[T] | None = None
        self.value: T | None = None
        self.names: tuple[str, ...] = ()


class SegmentTrie(Generic[T]):
    """Values by path template; ``match`` finds the value of a concrete path and its parameters."""

    def __init__(self) -> None:
        self._root: _Node[T] = _Node()

    def setdefault(self, template: str, value: T) -> T:
        """The value kept for ``template`` (``value`` if it had none yet)."""
        node = self._root
        names = []
        for part in split(template) or ():
            param = PARAM.match(part)
            if param:
                names.append(param.group(1))
                if node.param is None:
                    node.param = _Node()
                node = node.param
            else:
                node = node.fixed.setdefault(part, _Node())
        if node.value is None:
            node.value, node.names = value, tuple(names)
        return node.value

    def match(self, parts: list[str]) -> tuple[T, dict[str, str]] | None:
        """The value for a path's segments and its parameters by name."""
        best: tuple[tuple[int, ...], _Node[T], list[str]] | None = None
        # (node, index, parameter values, positions of parameters): fixed branches first
        stack: list[tuple[_Node[T], int, list[str], tuple[int, ...]]] = [(self._root, 0, [], ())]
        while stack:
            node, index, values, positions = stack.pop()
            if best is not None and len(positions) > best[0][0]:
                continue  # more parameters than a match already found: it cannot win
            if index == len(parts):
                if node.value is not None:
                    # fewer parameters first, then parameters as late as possible
                    rank = (len(positions), *(-p for p in positions))
                    if best is None or rank < best[0]:
                        best = (rank, node, values)
                continue
            if node.param is not None:
                stack.append((node.param, index + 1, [*values, parts[index]], (*positions, index)))
            child = node.fixed.get(parts[index])
            if child is not None:
                stack.append((child, index + 1, values, positions))
        if best is None:
            return None
        node = best[1]
        return node.value, dict(zip(node.names, best[2], strict=True))  # type: ignore[return-value]


def split(path: str) -> list[str] | None:
    """A path's segments, one trailing slash optional; None where a segment is empty (``a//b``)."""
    path = path[1:] if path.startswith("/") else path
    path = path[:-1] if path.endswith("/") else path
    parts = path.split("/")
    return None if "" in parts else parts
