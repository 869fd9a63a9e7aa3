"""The premises a DCC run serves: its Comms Hub, HAN devices, users and SM WAN.

Built from a site file (:mod:`sim.dcc.site_file`); ``default_site.yaml`` is the
dual-fuel site of the DCC's DUIS test request templates.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric import ec

from devices.commshub import CommsHub
from devices.firmware import DeviceFirmware
from devices.han_join import HanJoin
from devices.meter import HanDevice
from sim.dcc.coverage import CoverageDatabase
from sim.duis.precommand import supplier_test_key

ROLES = ("ImportSupplier", "ExportSupplier", "GasSupplier", "ElectricityDistributor",
         "GasTransporter", "RegisteredSupplierAgent", "OtherUser")
SUPPLIER_ROLES = frozenset({"ImportSupplier", "GasSupplier"})
DCC_ID = "90-B3-D5-1F-30-00-00-02"
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
    #: Scheduled changes of supplier: (seconds after start, fuel, gaining user), in order.
    supplier_changes: list[tuple[float, str, str]] = field(default_factory=list)
    #: The HAN its Comms Hub runs (None: the DCC's default join), one per premises of a street.
    han_join: HanJoin | None = None
    #: A Comms Hub the CSP has delivered to the supplier for this premises (SMI Pending),
    #: installed in place of ``hub`` by an 8.14.1 / 8.14.2 naming its CHF.
    replacement: CommsHub | None = None
    #: Comms Hubs taken out of service here, by CHF ID: the DCC still holds their device
    #: logs (the CS14 / GCS62 backups) for 8.12.1 / 8.12.2 to restore.
    replaced: dict[str, CommsHub] = field(default_factory=dict)

    def registered_suppliers(self, device_type: str) -> set[str]:
        """Who may send device SRVs for a device of this type now (after any CoS)."""
        if device_type in ("GSME", "GPF"):
            return {self.suppliers["gas"]} if "gas" in self.suppliers else set()
        if device_type == "ESME":
            return {self.suppliers["electricity"]} if "electricity" in self.suppliers else set()
        return set(self.suppliers.values())  # CHF, IHD, ...: either supplier

    def change_supplier(self, fuel: str, user_id: str) -> None:
        """Change of supplier in registration: the DCC now takes this fuel's SRVs from ``user_id``.

        A commissioned meter keeps trusting the losing supplier's key until 6.23 replaces
        it. An uncommissioned one has no supplier credentials of its own yet (L): the
        gaining supplier's 8.1.1 is checked against the gaining supplier's key, so with
        the install code (8.11) it can commission the meter (domain.md §5.7).
        """
        user_id = user_id.upper()
        self.suppliers[fuel] = user_id
        gaining = supplier_test_key(user_id).public_key()
        for device in self.devices.values():
            if not device.commissioned and user_id in self.registered_suppliers(device.device_type):
                device.supplier_key = gaining

    def install_replacement(self) -> CommsHub:
        """The replacement Comms Hub goes in: it serves the premises' SM WAN, the old one is
        out of service, and the HAN devices have lost their hub until its device log is
        restored (8.12.1). Returns the old hub."""
        new, old = self.replacement, self.hub
        assert new is not None  # the caller found the replacement's CHF named
        new.wan_connected, new.supplier_key = old.wan_connected, old.supplier_key
        self.hub, self.replacement = new, None
        self.replaced[old.chf_id] = old
        for device in self.devices.values():
            device.joined = False
        return old

    def replaced_by_gpf(self, gpf_id: str) -> CommsHub | None:
        """The out-of-service Comms Hub whose GPF is ``gpf_id``."""
        return next((h for h in self.replaced.values() if h.gpf_id == gpf_id.upper()), None)

    def holder(self, device_id: str) -> CommsHub | HanDevice | None:
        """What holds a device's supplier key and firmware: the Comms Hub for its CHF and
        GPF (one box, one firmware image), else the HAN device itself."""
        device_id = device_id.upper()
        if device_id in (self.hub.chf_id, self.hub.gpf_id):
            return self.hub
        return self.devices.get(device_id)

    def supplier_key(self, device_id: str) -> ec.EllipticCurvePublicKey | None:
        """The supplier key a device checks critical commands with."""
        holder = self.holder(device_id)
        return holder.supplier_key if holder else None

    def firmware(self, device_id: str) -> DeviceFirmware | None:
        """The device's firmware slots, when this premises models them."""
        holder = self.holder(device_id)
        return holder.firmware if holder else None
