"""Faker on demand: imported and built on the first draw, then seeded per stream.

Importing Faker costs ~70 ms and building its first instance ~80 ms more: most seeded tables
and schema values draw no fake names, so a server answers its first request without either.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from faker import Faker


class SharedFaker:
    """One Faker instance for many streams (building one costs ~2 ms each), made on first use."""

    def __init__(self) -> None:
        self._faker: Faker | None = None

    def get(self) -> Faker:
        if self._faker is None:
            from faker import Faker

            self._faker = Faker("en_US")
        return self._faker


class SeededFaker:
    """A stream's Faker: the shared instance, seeded with the stream on its first draw.

    Equal to seeding it up front as long as no other stream draws from the shared instance
    between this one's first and last draw (each user finishes a stream before starting another).
    """

    def __init__(self, shared: SharedFaker, stream: str) -> None:
        self._shared, self._stream = shared, stream
        self._seeded: Faker | None = None

    def __getattr__(self, name: str) -> Any:
        faker = self._seeded
        if faker is None:
            faker = self._seeded = self._shared.get()
            faker.seed_instance(self._stream)
            faker.unique.clear()  # unique values are unique within one stream
        return getattr(faker, name)
