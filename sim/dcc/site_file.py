"""Reading a premises from a YAML site file, with errors that name file, line and field.

```yaml
start: 2024-01-08T09:00:00Z          # the run's clock origin (optional)
premises: {post_code: M22 0RR, address: Threapwood Road, csp_region: North, mpxn: "1000999888"}
comms_hub: {chf: 00-DB-12-34-56-78-90-A2, gpf: 00-DB-12-34-56-78-90-A3}
wan: {connected: false, arrives: 2024-03-01T00:00:00Z, likelihood: Low}
devices:
  - {id: 00-DB-12-34-56-78-90-A0, type: ESME, install_code: generate}
users: {90-B3-D5-1F-30-01-00-00: [ImportSupplier, GasSupplier]}
suppliers: {electricity: 90-B3-D5-1F-30-01-00-00, gas: 90-B3-D5-1F-30-01-00-00}
seed: 0                               # for "generate" install codes
```
Every key but ``devices``, ``users`` and ``suppliers`` is optional; missing ones take
the default premises' values. Install codes given here are secrets and never printed.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import yaml

from devices.commshub import CommsHub
from devices.meter import HanDevice
from han.installcode import InstallCode, InstallCodeError
from sim.dcc.coverage import Coverage, CoverageDatabase, premises_key
from sim.dcc.premises import EPOCH, ROLES, Premises
from sim.duis.precommand import supplier_test_key
from sim.duis.request import EUI

DEVICE_TYPES = ("ESME", "GSME", "IHD", "CAD", "PPMID", "HCALCS")
TOP_KEYS = ("start", "premises", "comms_hub", "wan", "devices", "users", "suppliers", "seed")


DEFAULT_SITE = Path(__file__).with_name("default_site.yaml")


def default_premises() -> Premises:
    """The dual-fuel site of the DCC test templates (``default_site.yaml``)."""
    return load_site(DEFAULT_SITE)


class SiteFileError(ValueError):
    """A site file we cannot use: ``file:line: field: why``."""


class _Reader:
    """Walks PyYAML nodes so every error can say where it is."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, node: yaml.Node | None, field: str, why: str) -> SiteFileError:
        line = f":{node.start_mark.line + 1}" if node is not None else ""
        return SiteFileError(f"{self.path}{line}: {field}: {why}")

    def mapping(self, node: yaml.Node, field: str, allowed: tuple[str, ...] | None = None
                ) -> dict[str, yaml.Node]:
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(node, field, "expected a mapping (key: value)")
        out = {}
        for key, value in node.value:
            name = str(key.value)
            if allowed is not None and name not in allowed:
                raise self.fail(key, f"{field}.{name}".lstrip("."),
                                f"unknown key; expected one of {', '.join(allowed)}")
            out[name] = value
        return out

    def sequence(self, node: yaml.Node, field: str) -> list[yaml.Node]:
        if not isinstance(node, yaml.SequenceNode):
            raise self.fail(node, field, "expected a list")
        return node.value

    def text(self, node: yaml.Node, field: str) -> str:
        if not isinstance(node, yaml.ScalarNode) or node.value == "":
            raise self.fail(node, field, "expected a value")
        return str(node.value)

    def eui(self, node: yaml.Node, field: str) -> str:
        value = self.text(node, field)
        if not EUI.match(value):
            raise self.fail(node, field, f"{value!r} is not a device/user ID like 00-DB-12-34-56-78-90-A0")
        return value.upper()

    def flag(self, node: yaml.Node, field: str) -> bool:
        value = self.text(node, field).lower()
        if value not in ("true", "false", "yes", "no"):
            raise self.fail(node, field, f"{value!r} is not true or false")
        return value in ("true", "yes")

    def time(self, node: yaml.Node, field: str) -> dt.datetime:
        value = self.text(node, field)
        try:
            moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise self.fail(node, field, f"{value!r} is not an ISO date-time") from None
        return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def load_site(path: Path) -> Premises:
    """The premises a site file describes; SiteFileError says exactly what is wrong."""
    try:
        root = yaml.compose(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise SiteFileError(f"{path}: cannot read: {err.strerror}") from None
    except UnicodeDecodeError:
        raise SiteFileError(f"{path}: not a text (UTF-8) file") from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        raise SiteFileError(f"{path}{line}: not valid YAML: {getattr(err, 'problem', err)}") from None
    r = _Reader(path)
    if root is None:
        raise SiteFileError(f"{path}: empty site file")
    top = r.mapping(root, "", TOP_KEYS)
    for needed in ("devices", "users", "suppliers"):
        if needed not in top:
            raise r.fail(root, needed, "missing")
    start = r.time(top["start"], "start") if "start" in top else EPOCH
    seed = int(r.text(top["seed"], "seed")) if "seed" in top else 0
    rng = random.Random(seed)

    users = {}
    for key, value in r.mapping(top["users"], "users").items():
        user = key.upper()
        roles = {r.text(n, f"users.{key}") for n in r.sequence(value, f"users.{key}")}
        bad = roles - set(ROLES)
        if bad:
            raise r.fail(value, f"users.{key}", f"unknown role {sorted(bad)[0]!r}; roles are {', '.join(ROLES)}")
        if not EUI.match(user):
            raise r.fail(value, f"users.{key}", "user ID must look like 90-B3-D5-1F-30-01-00-00")
        users[user] = roles
    suppliers = {}
    for fuel, value in r.mapping(top["suppliers"], "suppliers", ("electricity", "gas")).items():
        user = r.eui(value, f"suppliers.{fuel}")
        if user not in users:
            raise r.fail(value, f"suppliers.{fuel}", f"{user} is not listed under users")
        suppliers[fuel] = user

    hub_fields = r.mapping(top.get("comms_hub") or yaml.MappingNode("tag:yaml.org,2002:map", []),
                           "comms_hub", ("chf", "gpf", "manufacturer", "model"))
    chf = r.eui(hub_fields["chf"], "comms_hub.chf") if "chf" in hub_fields else "00-DB-12-34-56-78-90-A2"
    gpf = r.eui(hub_fields["gpf"], "comms_hub.gpf") if "gpf" in hub_fields else "00-DB-12-34-56-78-90-A3"
    model = (r.text(hub_fields["manufacturer"], "comms_hub.manufacturer") if "manufacturer" in hub_fields else "AB01",
             r.text(hub_fields["model"], "comms_hub.model") if "model" in hub_fields else "010A030B")

    wan = r.mapping(top["wan"], "wan", ("connected", "arrives", "likelihood")) if "wan" in top else {}
    connected = r.flag(wan["connected"], "wan.connected") if "connected" in wan else True
    arrives = None
    if "arrives" in wan:
        arrives = (r.time(wan["arrives"], "wan.arrives") - start).total_seconds()
        if connected or arrives < 0:
            raise r.fail(wan["arrives"], "wan.arrives",
                         "only for a premises without WAN (connected: false), and after start")
    likelihood = r.text(wan["likelihood"], "wan.likelihood") if "likelihood" in wan else (
        "High" if connected else "Low")
    if likelihood not in ("High", "Medium", "Low"):
        raise r.fail(wan["likelihood"], "wan.likelihood", "must be High, Medium or Low")

    place = r.mapping(top["premises"], "premises",
                      ("post_code", "address", "uprn", "csp_region", "mpxn")) if "premises" in top else {}
    get = lambda key, default: r.text(place[key], f"premises.{key}") if key in place else default  # noqa: E731
    region = get("csp_region", "North")
    if region not in ("North", "Central", "South", "4G North", "4G Central", "4G South"):
        raise r.fail(place["csp_region"], "premises.csp_region", f"unknown CSP region {region!r}")
    coverage = CoverageDatabase()
    row = Coverage(region, connected, likelihood,
                   None if arrives is None else (start + dt.timedelta(seconds=arrives)).date().isoformat())
    coverage.add(premises_key(post_code=get("post_code", "M22 0RR"),
                              address_identifier=get("address", "Threapwood Road")), row)
    if "uprn" in place:
        coverage.add(premises_key(uprn=get("uprn", None)), row)

    keys = {user: supplier_test_key(user).public_key() for user in users}
    devices = {}
    for index, node in enumerate(r.sequence(top["devices"], "devices")):
        where = f"devices[{index}]"
        fields = r.mapping(node, where, ("id", "type", "install_code", "present"))
        for needed in ("id", "type", "install_code"):
            if needed not in fields:
                raise r.fail(node, f"{where}.{needed}", "missing")
        device_id = r.eui(fields["id"], f"{where}.id")
        kind = r.text(fields["type"], f"{where}.type")
        if kind not in DEVICE_TYPES:
            raise r.fail(fields["type"], f"{where}.type", f"{kind!r} is not one of {', '.join(DEVICE_TYPES)}")
        code_text = r.text(fields["install_code"], f"{where}.install_code")
        try:
            code = InstallCode.generate(16, rng) if code_text == "generate" else InstallCode.parse(code_text)
        except InstallCodeError as err:
            raise r.fail(fields["install_code"], f"{where}.install_code", str(err)) from None
        if device_id in devices or device_id in (chf, gpf):
            raise r.fail(fields["id"], f"{where}.id", f"{device_id} appears twice")
        fuel = "gas" if kind == "GSME" else "electricity"
        supplier = suppliers.get(fuel) or next(iter(suppliers.values()), None)
        present = r.flag(fields["present"], f"{where}.present") if "present" in fields else True
        devices[device_id] = HanDevice(device_id, kind, code, present,
                                       supplier_key=keys.get(supplier) if supplier else None)

    hub_key = keys.get(suppliers.get("electricity") or next(iter(suppliers.values()), ""))
    return Premises(
        hub=CommsHub(chf, gpf, connected, hub_key),
        devices=devices, users=users, suppliers=suppliers, coverage=coverage,
        hub_model=model, mpxn=get("mpxn", "1000999888"), start=start, wan_arrives=arrives,
    )
