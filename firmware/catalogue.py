"""The catalogue of device models and firmware versions: which image fits which device,
which version is production, which upgrade paths a device accepts.

Kept as data (``catalogue.yaml`` beside this file, or the user's own file) because
manufacturers release versions far more often than hansim changes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from firmware.image import FirmwareImage, FirmwareImageError

DEFAULT_CATALOGUE = Path(__file__).with_name("catalogue.yaml")


class CatalogueError(FirmwareImageError):
    """A catalogue file that is not usable, or an image/device the catalogue rules out."""


class WrongModelError(CatalogueError):
    """The image is for another manufacturer, image type or hardware version."""


class UpgradePathError(CatalogueError):
    """The catalogue does not allow upgrading from the running version to the image's."""


class VersionStatus(Enum):
    PRODUCTION = "production"
    SUPERSEDED = "superseded"
    WITHDRAWN = "withdrawn"


@dataclass(frozen=True)
class FirmwareVersion:
    version: int
    status: VersionStatus
    released: dt.date

    def __str__(self) -> str:
        return f"{self.version:08X}"


@dataclass(frozen=True)
class DeviceModel:
    model: str
    manufacturer_code: int
    device_type: str
    image_type: int
    hardware_versions: tuple[int, int]
    versions: tuple[FirmwareVersion, ...]
    upgrades: frozenset[tuple[int, int]]
    band: str | None = None

    def version(self, version: int) -> FirmwareVersion:
        for known in self.versions:
            if known.version == version:
                return known
        raise CatalogueError(f"model {self.model}: firmware version {version:08X} is not in the catalogue")

    def latest_production(self, on: dt.date | None = None) -> FirmwareVersion:
        """The version a re-flash installs: newest released (by ``on``) and not withdrawn.

        Without ``on``, the newest with status production."""
        if on is None:
            candidates = [v for v in self.versions if v.status is VersionStatus.PRODUCTION]
        else:
            candidates = [v for v in self.versions
                          if v.released <= on and v.status is not VersionStatus.WITHDRAWN]
        if not candidates:
            raise CatalogueError(f"model {self.model}: no production firmware"
                                 + (f" released by {on}" if on else ""))
        return max(candidates, key=lambda v: v.released)

    def upgrade_hops(self, running: int, target: int) -> int | None:
        """Fewest allowed upgrade steps from ``running`` to ``target`` (None: no path)."""
        reached, frontier, hops = {running}, {running}, 0
        while target not in reached:
            frontier = {b for a, b in self.upgrades if a in frontier} - reached
            if not frontier:
                return None
            reached |= frontier
            hops += 1
        return hops

    def check_upgrade(self, running: int, target: int) -> None:
        if (running, target) not in self.upgrades:
            raise UpgradePathError(
                f"model {self.model}: upgrade {running:08X} -> {target:08X} is not an allowed path")


@dataclass(frozen=True)
class Catalogue:
    manufacturers: dict[int, str]
    models: dict[str, DeviceModel]

    @classmethod
    def load(cls, path: Path | str = DEFAULT_CATALOGUE) -> Catalogue:
        # The one bounded loader every hand-written YAML file goes through (aliases, depth,
        # control characters: sim.yamlfile, a leaf module that imports only PyYAML).
        from sim.yamlfile import InputFileError, load_yaml

        path = Path(path)
        try:
            data = load_yaml(path).data
        except InputFileError as err:
            raise CatalogueError(f"cannot read the catalogue: {err}") from None
        return cls.from_dict(data, str(path))

    @classmethod
    def from_dict(cls, data: Any, where: str) -> Catalogue:
        """From the parsed YAML (any shape: a wrong one is a CatalogueError naming ``where``)."""
        try:
            manufacturers = {int(m["code"]): str(m["name"]) for m in data["manufacturers"]}
            models = {}
            for entry in data["models"]:
                model = _model(entry, manufacturers)
                if model.model in models:
                    raise CatalogueError(f"model {model.model} listed twice")
                models[model.model] = model
        except CatalogueError as err:
            raise CatalogueError(f"{where}: {err}") from None
        except (KeyError, TypeError, ValueError) as err:
            raise CatalogueError(f"{where}: malformed catalogue entry ({err!r})") from None
        return cls(manufacturers, models)

    def model(self, name: str) -> DeviceModel:
        try:
            return self.models[name]
        except KeyError:
            raise CatalogueError(f"model {name!r} is not in the catalogue") from None

    def model_for(self, manufacturer_code: int, image_type: int) -> DeviceModel:
        for model in self.models.values():
            if (model.manufacturer_code, model.image_type) == (manufacturer_code, image_type):
                return model
        raise WrongModelError(f"no model in the catalogue has manufacturer code "
                              f"{manufacturer_code:04X} and image type {image_type:04X}")

    def check_image(self, image: FirmwareImage, model: DeviceModel, hardware_version: int,
                    running: int) -> None:
        """Raise unless ``image`` is for ``model`` and this hardware, on an allowed path."""
        if (image.manufacturer_code, image.image_type) != (model.manufacturer_code, model.image_type):
            raise WrongModelError(
                f"image is for manufacturer {image.manufacturer_code:04X} image type "
                f"{image.image_type:04X}, device is {model.model} "
                f"({model.manufacturer_code:04X}/{model.image_type:04X})")
        limits = image.hardware_versions
        if limits is not None and not limits[0] <= hardware_version <= limits[1]:
            raise WrongModelError(f"image is for hardware {limits[0]:04X}..{limits[1]:04X}, "
                                  f"device hardware is {hardware_version:04X}")
        model.version(image.version)
        model.check_upgrade(running, image.version)


def _model(entry: dict, manufacturers: dict[int, str]) -> DeviceModel:
    code = int(entry["manufacturer"])
    if code not in manufacturers:
        raise CatalogueError(f"model {entry['model']}: manufacturer {code:04X} is not listed")
    versions = tuple(
        FirmwareVersion(int(v["version"]), VersionStatus(v["status"]), _date(v["released"]))
        for v in entry["versions"])
    known = {v.version for v in versions}
    upgrades = frozenset((int(a), int(b)) for a, b in entry.get("upgrades", []))
    for a, b in upgrades:
        if a not in known or b not in known:
            raise CatalogueError(f"model {entry['model']}: upgrade {a:08X} -> {b:08X} names an unknown version")
    low, high = (int(h) for h in entry["hardware_versions"])
    band = entry.get("band")
    if band not in (None, "single", "dual"):
        raise CatalogueError(f"model {entry['model']}: band {band!r} is not single or dual")
    return DeviceModel(str(entry["model"]), code, str(entry["device_type"]), int(entry["image_type"]),
                       (low, high), versions, upgrades, band)


def _date(value: object) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
