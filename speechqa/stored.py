"""Result types that also read as their stored JSON.

A typed result (a scorecard, a script, a call's measures) is stored as JSON in a column and served
as JSON; :class:`ReadsAsStored` lets code that holds the JSON shape in mind (``score["value"]``)
read the typed value by the same keys, so the typed value and its stored form never disagree.
Product code reads attributes; the mapping view is the stored form, computed by ``as_dict``.
The API serves these types as they are (pydantic reads stdlib dataclasses), with :data:`SERVED`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pydantic import ConfigDict

SERVED = ConfigDict()
"""A served result type's ``__pydantic_config__``. Not ``use_attribute_docstrings``: pydantic reads
those by parsing the module's source with ast while it builds a schema, which FastAPI does
lazily, on the first request's thread, deep in the stack; there CPython 3.11.7's AST constructor
raised "SystemError: AST constructor recursion depth mismatch" (seen in CI). The docstrings stay
for readers of the code; the schema has no field descriptions."""


class ReadsAsStored(Mapping[str, Any]):
    """A read-only mapping over ``as_dict()`` (equal to a dict with the same JSON)."""

    def as_dict(self) -> dict[str, Any]:
        raise NotImplementedError

    def __getitem__(self, key: str) -> Any:
        return self.as_dict()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.as_dict())

    def __len__(self) -> int:
        return len(self.as_dict())

    def __bool__(self) -> bool:
        """A result is there (``if evaluation.score:``) without building its stored form."""
        return True
