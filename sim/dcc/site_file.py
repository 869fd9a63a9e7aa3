"""Reading a premises from a YAML site file, with errors that name file, line and field.

```yaml
start: 2024-01-08T09:00:00Z          # the run's clock origin (optional)
premises: {post_code: M22 0RR, address: Threapwood Road, csp_region: North, mpxn: "1000999888"}
comms_hub: {chf: 00-DB-12-34-56-78-90-A2, gpf: 00-DB-12-34-56-78-90-A3,
            replacement: {chf: 00-DB-12-34-56-78-90-C2, gpf: 00-DB-12-34-56-78-90-C3}}
wan: {connected: false, arrives: 2024-03-01T00:00:00Z, likelihood: Low}
devices:
  - {id: 00-DB-12-34-56-78-90-A0, type: ESME, install_code: generate}
users: {90-B3-D5-1F-30-01-00-00: [ImportSupplier, GasSupplier]}
suppliers: {electricity: 90-B3-D5-1F-30-01-00-00, gas: 90-B3-D5-1F-30-01-00-00}
supplier_changes: [{at: 2024-02-01T00:00:00Z, fuel: electricity, to: 90-B3-D5-1F-30-05-00-00}]
seed: 0                               # for "generate" install codes
```
``comms_hub.replacement`` is an optional second Comms Hub in the supplier's stock (SMI
Pending): an 8.14.1 / 8.14.2 naming its CHF swaps it in, and 8.12.1 / 8.12.2 restore the
old hub's device logs onto it. ``devices``, ``users`` and ``suppliers`` are required; other keys take the default
site's values. Install codes given here are secrets and never printed.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path
from typing import Any

from devices.commshub import CommsHub
from devices.firmware import DeviceFirmware
from devices.meter import HanDevice
from firmware.catalogue import DEFAULT_CATALOGUE, Catalogue
from firmware.image import FirmwareImageError
from han.installcode import InstallCode, InstallCodeError
from sim.dcc.coverage import Coverage, CoverageDatabase, premises_key
from sim.dcc.premises import EPOCH, ROLES, Premises
from sim.duis.precommand import supplier_test_key
from sim.duis.request import EUI
from sim.yamlfile import InputFileError, YamlDocument, load_yaml

DEFAULT_SITE = Path(__file__).with_name("default_site.yaml")
DEVICE_TYPES = ("ESME", "GSME", "IHD", "CAD", "PPMID", "HCALCS")
CSP_REGIONS = ("North", "Central", "South", "4G North", "4G Central", "4G South")
KEYS = {
    (): ("start", "premises", "comms_hub", "wan", "devices", "users", "suppliers",
         "supplier_changes", "seed"),
    ("supplier_change",): ("at", "fuel", "to"),
    ("premises",): ("post_code", "address", "uprn", "csp_region", "mpxn"),
    ("comms_hub",): ("chf", "gpf", "manufacturer", "model", "firmware", "replacement"),
    ("replacement",): ("chf", "gpf"),
    ("wan",): ("connected", "arrives", "likelihood"),
    ("suppliers",): ("electricity", "gas"),
    ("device",): ("id", "type", "install_code", "present", "firmware"),
    ("firmware",): ("model", "hardware_version", "running", "catalogue"),
}

SiteFileError = InputFileError


def default_premises() -> Premises:
    """The dual-fuel site of the DCC test templates (``default_site.yaml``)."""
    return load_site(DEFAULT_SITE)


class _Site:
    """Typed reads from a YamlDocument; every failure is located."""

    def __init__(self, doc: YamlDocument) -> None:
        self.doc = doc

    def mapping(self, path: tuple, allowed: tuple[str, ...] | None = None,
                required: tuple[str, ...] = ()) -> dict[str, Any]:
        value = self.get(path, {})
        if not isinstance(value, dict):
            raise self.doc.error(path, "expected a mapping (key: value)")
        for key in value:
            if allowed is not None and key not in allowed:
                raise self.doc.error((*path, key), f"unknown key; expected one of {', '.join(allowed)}")
        for key in required:
            if key not in value:
                raise self.doc.error((*path, key), "missing")
        return value

    def get(self, path: tuple, default: Any = None) -> Any:
        value = self.doc.data
        for part in path:
            if isinstance(value, dict) and part in value:
                value = value[part]
            elif isinstance(value, list) and isinstance(part, int):
                value = value[part]
            else:
                return default
        return value

    def text(self, path: tuple, default: str | None = None) -> str:
        value = self.get(path, default)
        if value is None or isinstance(value, (dict, list)):
            raise self.doc.error(path, "expected a value")
        return str(value)

    def eui(self, path: tuple, default: str | None = None) -> str:
        value = self.text(path, default)
        if not EUI.match(value):
            raise self.doc.error(path, f"{value!r} is not an ID like 00-DB-12-34-56-78-90-A0")
        return value.upper()

    def flag(self, path: tuple, default: bool) -> bool:
        value = self.get(path, default)
        if not isinstance(value, bool):
            raise self.doc.error(path, f"{value!r} is not true or false")
        return value

    def number(self, path: tuple) -> int:
        """An integer written as a number (YAML reads 0x0105 as hex) or a hex string."""
        value = self.get(path)
        if isinstance(value, str):
            try:
                value = int(value, 16)
            except ValueError:
                raise self.doc.error(path, f"{value!r} is not a number or hex digits") from None
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise self.doc.error(path, f"{value!r} is not a non-negative number")
        return value

    def choice(self, path: tuple, default: str, choices: tuple[str, ...]) -> str:
        value = self.text(path, default)
        if value not in choices:
            raise self.doc.error(path, f"{value!r} is not one of {', '.join(choices)}")
        return value

    def time(self, path: tuple, default: dt.datetime) -> dt.datetime:
        value = self.get(path, default)
        if isinstance(value, str):
            try:
                value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                raise self.doc.error(path, f"{value!r} is not an ISO date-time") from None
        if not isinstance(value, dt.datetime):
            raise self.doc.error(path, f"{value!r} is not an ISO date-time")
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)

    def install_code(self, path: tuple, rng: random.Random) -> InstallCode:
        value = self.get(path)
        if isinstance(value, int) and not isinstance(value, bool):
            raise self.doc.error(path, "quote the install code: YAML reads unquoted digits "
                                       "as a number and drops leading zeros")
        text = self.text(path)
        try:
            return InstallCode.generate(16, rng) if text == "generate" else InstallCode.parse(text)
        except InstallCodeError as err:
            raise self.doc.error(path, str(err)) from None


def load_site(path: Path) -> Premises:
    """The premises a site file describes; SiteFileError says exactly what is wrong."""
    doc = load_yaml(path)
    if not isinstance(doc.data, dict):
        raise doc.error((), "a site file is a mapping with devices, users and suppliers")
    site = _Site(doc)
    site.mapping((), KEYS[()], required=("devices", "users", "suppliers"))
    for section in ("premises", "comms_hub", "wan"):
        site.mapping((section,), KEYS[(section,)])
    start = site.time(("start",), EPOCH)
    users = _users(site)
    suppliers = {}
    for fuel in site.mapping(("suppliers",), KEYS[("suppliers",)]):
        suppliers[fuel] = site.eui(("suppliers", fuel))
        if suppliers[fuel] not in users:
            raise doc.error(("suppliers", fuel), f"{suppliers[fuel]} is not listed under users")
    if not suppliers:  # the hub's supplier key is the electricity supplier's, else the gas one's
        raise doc.error(("suppliers",), "needs a supplier: electricity or gas (a user listed under users)")
    keys = {user: supplier_test_key(user).public_key() for user in users}
    hub = CommsHub(
        site.eui(("comms_hub", "chf"), "00-DB-12-34-56-78-90-A2"),
        site.eui(("comms_hub", "gpf"), "00-DB-12-34-56-78-90-A3"),
        site.flag(("wan", "connected"), True),
        keys[suppliers.get("electricity") or next(iter(suppliers.values()))],
    )
    if hub.gpf_id == hub.chf_id:  # two devices on one HAN: the DCC addresses each by its own ID
        raise doc.error(("comms_hub", "gpf"), f"{hub.gpf_id} is the CHF's ID too; the GPF needs its own")
    hub.firmware = _firmware(site, ("comms_hub", "firmware"), hub.chf_id)
    replacement = _replacement_hub(site, hub)
    arrives = None
    if "arrives" in site.mapping(("wan",)):
        arrives = (site.time(("wan", "arrives"), start) - start).total_seconds()
        if hub.wan_connected or arrives < 0:
            raise doc.error(("wan", "arrives"),
                            "only for a premises without WAN (connected: false), after start")
    devices = _devices(site, hub, suppliers, keys)
    if replacement is not None:
        for which, device_id in (("chf", replacement.chf_id), ("gpf", replacement.gpf_id)):
            if device_id in devices:
                raise doc.error(("comms_hub", "replacement", which), f"{device_id} appears twice")
    return Premises(
        hub=hub,
        devices=devices,
        users=users,
        suppliers=suppliers,
        coverage=_coverage(site, hub.wan_connected, start, arrives),
        hub_model=(site.text(("comms_hub", "manufacturer"), "AB01"),
                   site.text(("comms_hub", "model"), "010A030B")),
        mpxn=site.text(("premises", "mpxn"), "1000999888"),
        start=start,
        wan_arrives=arrives,
        supplier_changes=_supplier_changes(site, start, users),
        replacement=replacement,
    )


def _replacement_hub(site: _Site, hub: CommsHub) -> CommsHub | None:
    """``comms_hub.replacement: {chf, gpf}``: a second Comms Hub for a hub swap."""
    path = ("comms_hub", "replacement")
    if site.get(path) is None:
        return None
    site.mapping(path, KEYS[("replacement",)], required=("chf", "gpf"))
    chf, gpf = site.eui((*path, "chf")), site.eui((*path, "gpf"))
    for which, device_id in (("chf", chf), ("gpf", gpf)):
        if device_id in (hub.chf_id, hub.gpf_id) or (which == "gpf" and device_id == chf):
            raise site.doc.error((*path, which), f"{device_id} appears twice")
    return CommsHub(chf, gpf, hub.wan_connected, hub.supplier_key)


def _users(site: _Site) -> dict[str, set[str]]:
    users = {}
    for key, roles in site.mapping(("users",)).items():
        if not EUI.match(str(key)):
            raise site.doc.error(("users", key), "a user ID looks like 90-B3-D5-1F-30-01-00-00")
        if not isinstance(roles, list) or not roles:
            raise site.doc.error(("users", key), "expected a list of roles")
        for index, role in enumerate(roles):
            site.choice(("users", key, index), role, ROLES)
        users[str(key).upper()] = set(roles)
    return users


def _supplier_changes(site: _Site, start: dt.datetime,
                      users: dict[str, set[str]]) -> list[tuple[float, str, str]]:
    """Scheduled changes of supplier: ``[{at: ISO, fuel: electricity|gas, to: USER}]``."""
    listed = site.get(("supplier_changes",), [])
    if not isinstance(listed, list):
        raise site.doc.error(("supplier_changes",), "expected a list")
    changes = []
    for index in range(len(listed)):
        path = ("supplier_changes", index)
        site.mapping(path, KEYS[("supplier_change",)], required=("at", "fuel", "to"))
        at = (site.time((*path, "at"), start) - start).total_seconds()
        if at < 0:
            raise site.doc.error((*path, "at"), "before the site's start")
        user = site.eui((*path, "to"))
        if user not in users:
            raise site.doc.error((*path, "to"), f"{user} is not listed under users")
        changes.append((at, site.choice((*path, "fuel"), "", ("electricity", "gas")), user))
    return sorted(changes)


def _devices(site: _Site, hub: CommsHub, suppliers: dict[str, str],
             keys: dict) -> dict[str, HanDevice]:
    seed = site.text(("seed",), "0")
    if not seed.strip().isdigit():  # a seed the fuzz suite found crashing int()
        raise site.doc.error(("seed",), f"{seed!r} is not a whole number >= 0")
    rng = random.Random(int(seed))
    listed = site.get(("devices",))
    if not isinstance(listed, list):
        raise site.doc.error(("devices",), "expected a list of devices")
    devices: dict[str, HanDevice] = {}
    for index in range(len(listed)):
        path = ("devices", index)
        site.mapping(path, KEYS[("device",)], required=("id", "type", "install_code"))
        device_id = site.eui((*path, "id"))
        if device_id in devices or device_id in (hub.chf_id, hub.gpf_id):
            raise site.doc.error((*path, "id"), f"{device_id} appears twice")
        kind = site.choice((*path, "type"), "", DEVICE_TYPES)
        code = site.install_code((*path, "install_code"), rng)
        supplier = suppliers.get("gas" if kind == "GSME" else "electricity")
        devices[device_id] = HanDevice(device_id, kind, code, site.flag((*path, "present"), True),
                                       supplier_key=keys.get(supplier),
                                       firmware=_firmware(site, (*path, "firmware"), device_id))
    return devices


def _firmware(site: _Site, path: tuple, device_id: str) -> DeviceFirmware | None:
    """A device's firmware slots, when the site file models them (SRV 11.1 / 11.3)."""
    if site.get(path) is None:
        return None
    site.mapping(path, KEYS[("firmware",)],
                 required=("model", "hardware_version", "running"))
    here = Path(site.doc.file).parent
    try:
        catalogue = Catalogue.load(here / site.text((*path, "catalogue"))
                                   if site.get((*path, "catalogue")) else DEFAULT_CATALOGUE)
    except FirmwareImageError as err:
        raise site.doc.error((*path, "catalogue"), str(err)) from None
    try:
        model = catalogue.model(site.text((*path, "model")))
    except FirmwareImageError as err:
        raise site.doc.error((*path, "model"), str(err)) from None
    return DeviceFirmware(device_id, model, site.number((*path, "hardware_version")),
                          site.number((*path, "running")), catalogue)


def _coverage(site: _Site, connected: bool, start: dt.datetime,
              arrives: float | None) -> CoverageDatabase:
    """The 12.1 coverage database for this premises: what the site's WAN really is."""
    likelihood = site.choice(("wan", "likelihood"), "High" if connected else "Low",
                             ("High", "Medium", "Low"))
    anticipated = None if arrives is None else (start + dt.timedelta(seconds=arrives)).date()
    row = Coverage(site.choice(("premises", "csp_region"), "North", CSP_REGIONS), connected,
                   likelihood, anticipated.isoformat() if anticipated else None)
    coverage = CoverageDatabase()
    coverage.add(premises_key(post_code=site.text(("premises", "post_code"), "M22 0RR"),
                              address_identifier=site.text(("premises", "address"),
                                                           "Threapwood Road")), row)
    if site.get(("premises", "uprn")) is not None:
        uprn = site.text(("premises", "uprn"))
        if not uprn.strip().isdigit():  # found by the fuzz suite crashing int()
            raise site.doc.error(("premises", "uprn"), f"{uprn!r} is not a UPRN (digits only)")
        coverage.add(premises_key(uprn=uprn), row)
    return coverage
