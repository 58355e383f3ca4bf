"""Typed model of content/places.yaml, the list of provinces, cities and big-city districts."""

from __future__ import annotations

from collections import Counter

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from intents.cities import Place


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CityEntry(_Frozen):
    name: str = Field(min_length=2)  # canonical short name, never ending in 市
    full_name: str = Field(min_length=2)
    aliases: tuple[str, ...] = ()
    districts: tuple[str, ...] = ()  # complete only for the big cities; empty elsewhere

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

    def to_places(self) -> list[Place]:
        return [Place(c.name, c.full_name, p.name, c.aliases, c.districts) for p in self.entries for c in p.cities]

    def provinces(self) -> dict[str, list[str]]:
        """Province short name -> the short names of its cities."""
        return {p.name: [c.name for c in p.cities] for p in self.entries}
