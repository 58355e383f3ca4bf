"""Typed model of content/places.yaml: provinces, their cities, and each city's county-level divisions."""

from __future__ import annotations

from collections import Counter
from functools import cached_property

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from intents.cities import Place, district_short


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CityEntry(_Frozen):
    name: str = Field(min_length=2)  # canonical short name, never ending in 市
    full_name: str = Field(min_length=2)
    aliases: tuple[str, ...] = ()
    districts: tuple[str, ...] = ()  # full names of its county-level divisions (towns where it has none)

    @field_validator("name")
    @classmethod
    def _short(cls, name: str) -> str:
        if name.endswith("市"):
            raise ValueError(f"city name {name!r} must be the short form without 市")
        return name


class ProvinceEntry(_Frozen):
    name: str = Field(min_length=2)
    full_name: str = Field(min_length=2)
    aliases: tuple[str, ...] = ()
    cities: tuple[CityEntry, ...] = Field(min_length=1)


class PlacesFile(_Frozen):
    # Everyday words that are, or hold, the name of a district or county (大方 of 大方县, 城区, 恍然大悟 with
    # 大悟县): they never name a place. Generated from jieba's dictionary by scripts/gen_places.py.
    ordinary_words: tuple[str, ...] = ()
    # The YAML key is `provinces`; the field has another name so that `provinces()` can be a method.
    entries: tuple[ProvinceEntry, ...] = Field(alias="provinces", min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> PlacesFile:
        for kind, names in (
            ("province", [p.name for p in self.entries]),
            ("city", [c.name for p in self.entries for c in p.cities]),
        ):
            dupes = sorted(n for n, k in Counter(names).items() if k > 1)
            if dupes:
                raise ValueError(f"duplicate {kind} names: {', '.join(dupes)}")
        return self

    @model_validator(mode="after")
    def _ordinary_words_hold_divisions(self) -> PlacesFile:
        """An ordinary word must hold a division's name (else it is stale) and must not be a city's or a
        province's name (that would silence the city)."""
        cities = {n for p in self.entries for n in (p.name, p.full_name, *p.aliases)}
        cities |= {n for c in self._cities() for n in (c.name, c.full_name, *c.aliases)}
        held = self._holders
        stray = sorted(w for w in self.ordinary_words if w not in held or w in cities)
        if stray:
            raise ValueError(f"ordinary words that hold no division's name, or name a city: {', '.join(stray)}")
        return self

    def _cities(self) -> list[CityEntry]:
        return [c for p in self.entries for c in p.cities]

    @cached_property  # the file is frozen; validation and every to_places() need this
    def _holders(self) -> dict[str, set[str]]:
        """Ordinary word -> the cities one of whose districts it names or holds (大悟 and 恍然大悟: 孝感)."""
        city_of: dict[str, set[str]] = {}
        for c in self._cities():
            for d in c.districts:
                for name in (d, district_short(d)):
                    city_of.setdefault(name, set()).add(c.name)
        holders: dict[str, set[str]] = {}
        for word in self.ordinary_words:
            parts = {word[i:j] for i in range(len(word) - 1) for j in range(i + 2, len(word) + 1)}
            for part in parts & city_of.keys():
                holders.setdefault(word, set()).update(city_of[part])
        return holders

    def to_places(self) -> list[Place]:
        """Each place carries the ordinary words that are or hold its districts' names."""
        return list(self._places)

    @cached_property  # start-up asks several times (content checks, the extractor, Telegram's buttons)
    def _places(self) -> tuple[Place, ...]:
        mine: dict[str, list[str]] = {}
        for word, cities in sorted(self._holders.items()):
            for city in cities:
                mine.setdefault(city, []).append(word)
        return tuple(
            Place(c.name, c.full_name, p.name, c.aliases, c.districts, tuple(mine.get(c.name, ())))
            for p in self.entries
            for c in p.cities
        )

    def provinces(self) -> dict[str, list[str]]:
        """Province short name -> the short names of its cities."""
        return {p.name: [c.name for c in p.cities] for p in self.entries}
