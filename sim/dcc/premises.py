"""The premises a DCC run serves: its Comms Hub, HAN devices, users and SM WAN.

The default premises is a dual-fuel site whose device and user IDs are those of the
DCC's DUIS test request templates, so the templates run against it unchanged: CHF
00-DB-12-34-56-78-90-A2, GPF ...-A3, ESME ...-A0 (holding the templates' install code),
GSME ...-A1, one supplier 90-B3-D5-1F-30-01-00-00 for both fuels, DCC
90-B3-D5-1F-30-00-00-02, premises "M22 0RR / Threapwood Road" in the North region.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric import ec

from devices.commshub import CommsHub
from devices.meter import HanDevice
from han.installcode import InstallCode
from sim.dcc.coverage import Coverage, CoverageDatabase, premises_key
from sim.duis.precommand import supplier_test_key

ROLES = ("ImportSupplier", "GasSupplier", "OtherUser")
DCC_ID = "90-B3-D5-1F-30-00-00-02"
TEMPLATE_SUPPLIER = "90-B3-D5-1F-30-01-00-00"
TEMPLATE_INSTALL_CODE = "30313233343536373839414243444546"
EPOCH = dt.datetime(2024, 1, 8, 9, 0, tzinfo=dt.UTC)


@dataclass
class Premises:
    """One site and the DCC users that may act on it."""

    hub: CommsHub
    devices: dict[str, HanDevice]
    users: dict[str, set[str]]
    suppliers: dict[str, str]  # fuel ("electricity" / "gas") -> user ID
    coverage: CoverageDatabase
    hub_model: tuple[str, str] = ("AB01", "010A030B")
    mpxn: str = "1000999888"
    start: dt.datetime = EPOCH
    wan_arrives: float | None = None  # seconds after start, when the WAN is down
    dcc_id: str = DCC_ID

    def registered_suppliers(self, device_type: str) -> set[str]:
        """Who may send device SRVs for a device of this type now (after any CoS)."""
        if device_type in ("GSME", "GPF"):
            return {self.suppliers["gas"]} if "gas" in self.suppliers else set()
        if device_type == "ESME":
            return {self.suppliers["electricity"]} if "electricity" in self.suppliers else set()
        return set(self.suppliers.values())  # CHF, IHD, ...: either supplier

    def change_supplier(self, fuel: str, user_id: str) -> None:
        """Change of supplier in registration: the DCC now takes this fuel's SRVs from ``user_id``."""
        self.suppliers[fuel] = user_id.upper()

    def supplier_key(self, device_id: str) -> ec.EllipticCurvePublicKey | None:
        """The supplier key a device checks critical commands with."""
        device_id = device_id.upper()
        if device_id in (self.hub.chf_id, self.hub.gpf_id):
            return self.hub.supplier_key
        device = self.devices.get(device_id)
        return device.supplier_key if device else None

    def set_supplier_key(self, device_id: str, key: ec.EllipticCurvePublicKey) -> None:
        device_id = device_id.upper()
        if device_id in (self.hub.chf_id, self.hub.gpf_id):
            self.hub.supplier_key = key
        else:
            self.devices[device_id].supplier_key = key

    def device_type(self, device_id: str) -> str | None:
        device_id = device_id.upper()
        if device_id == self.hub.chf_id:
            return "CHF"
        if device_id == self.hub.gpf_id:
            return "GPF"
        device = self.devices.get(device_id)
        return device.device_type if device else None


def default_premises(wan_connected: bool = True, wan_arrives: float | None = None) -> Premises:
    """The dual-fuel site of the DCC test templates (see the module docstring)."""
    rng = random.Random(0)
    key = supplier_test_key(TEMPLATE_SUPPLIER).public_key()
    devices = {
        "00-DB-12-34-56-78-90-A0": HanDevice(
            "00-DB-12-34-56-78-90-A0", "ESME", InstallCode.parse(TEMPLATE_INSTALL_CODE),
            supplier_key=key),
        "00-DB-12-34-56-78-90-A1": HanDevice(
            "00-DB-12-34-56-78-90-A1", "GSME", InstallCode.generate(16, rng), supplier_key=key),
    }
    coverage = CoverageDatabase()
    coverage.add(
        premises_key(post_code="M22 0RR", address_identifier="Threapwood Road"),
        Coverage("North", wan_connected, "High" if wan_connected else "Low",
                 None if wan_connected or wan_arrives is None
                 else (EPOCH + dt.timedelta(seconds=wan_arrives)).date().isoformat()),
    )
    return Premises(
        hub=CommsHub("00-DB-12-34-56-78-90-A2", "00-DB-12-34-56-78-90-A3", wan_connected, key),
        devices=devices,
        users={TEMPLATE_SUPPLIER: {"ImportSupplier", "GasSupplier"}},
        suppliers={"electricity": TEMPLATE_SUPPLIER, "gas": TEMPLATE_SUPPLIER},
        coverage=coverage,
        wan_arrives=wan_arrives,
    )
