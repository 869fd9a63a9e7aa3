"""Meters behind the virtual stick, and the one decision that matters: does it join?

Each emulated meter has an EUI-64 and its own install code. When the coordinator
permits joining, the meter tries; a :class:`MeterJoiner` decides the outcome from the
coordinator's network parameters and the link key the coordinator holds for that
EUI-64. :func:`key_level_join` is the honest key-level model (the keys are equal); a
frame-level join (beacons, association, APS Transport Key under CCM*) can stand behind
the same interface.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Protocol

import zigpy.types as zt
import zigpy.zdo.types as zdo_t

from han.eui import to_device_id, to_eui64
from han.installcode import InstallCode, InstallCodeError

SMART_ENERGY_PROFILE = 0x0109
METERING_DEVICE = 0x0501  # SE device id of an ESME
# Clusters the emulated ESME serves on its SE endpoint: Basic and Metering, the ones it
# answers (reads, Configure Reporting, Discover Attributes); a host's interview sees only
# what the meter does, not Key Establishment it would refuse.
ESME_SERVER_CLUSTERS = (0x0000, 0x0702)
_EUI64_DIGITS = re.compile(r"[\s:\-_.]")


def parse_eui64(text: str) -> zt.EUI64:
    """An EUI-64 written most significant byte first: DUIS ``00-DB-12-...``, colons or plain hex."""
    digits = _EUI64_DIGITS.sub("", text.strip())
    if len(digits) != 16 or any(ch not in "0123456789abcdefABCDEF" for ch in digits):
        raise ValueError(f"EUI-64 {text!r} is not 8 bytes of hex (like 00-DB-12-34-56-78-90-A0)")
    return to_eui64("-".join(digits[i:i + 2] for i in range(0, 16, 2)))


@dataclass(frozen=True)
class NetworkParameters:
    """The coordinator's network as a joining meter meets it.

    ``network_key``, ``nwk_frame_counter`` and ``next_short`` (the short address the
    coordinator gives this joiner) are the stick's own, so a frame-level join runs on the
    network the stick formed; None leaves them to the join's own seeded choice.
    """

    channel: int
    pan_id: int
    extended_pan_id: zt.EUI64
    coordinator_ieee: zt.EUI64
    network_key: bytes | None = field(default=None, repr=False)
    nwk_frame_counter: int = 0
    next_short: int | None = None


@dataclass(frozen=True)
class EmulatedMeter:
    """An ESME (mains powered, so a router) that joins with its install code."""

    ieee: zt.EUI64
    install_code: InstallCode = field(repr=False)
    manufacturer: str = "hansim"
    model: str = "ESME"
    energy_wh: int = 0  # CurrentSummationDelivered, in Wh (multiplier 1, divisor 1000: kWh)

    @classmethod
    def parse(cls, spec: str) -> EmulatedMeter:
        """From ``EUI64=INSTALLCODE`` (any install-code form :class:`InstallCode` reads),
        or from the meter's label/QR string alone, which carries both."""
        eui, sep, code = spec.partition("=")
        try:
            if not sep:
                ieee, install_code = InstallCode.parse_qr(spec)
                return cls(zt.EUI64(ieee), install_code)
            return cls(parse_eui64(eui), InstallCode.parse(code))
        except InstallCodeError as err:
            what = eui.strip() if sep else "label"
            raise ValueError(f"meter {what}: {err} (give EUI64=INSTALLCODE or a QR string)") \
                from None

    @property
    def link_key(self) -> bytes:
        return bytes(self.install_code.link_key())

    def node_descriptor(self) -> zdo_t.NodeDescriptor:
        return zdo_t.NodeDescriptor(
            logical_type=zdo_t.LogicalType.Router,
            complex_descriptor_available=0, user_descriptor_available=0, reserved=0,
            aps_flags=0, frequency_band=zdo_t.NodeDescriptor.FrequencyBand.Freq2400MHz,
            mac_capability_flags=(
                zdo_t.NodeDescriptor.MACCapabilityFlags.FullFunctionDevice
                | zdo_t.NodeDescriptor.MACCapabilityFlags.MainsPowered
                | zdo_t.NodeDescriptor.MACCapabilityFlags.RxOnWhenIdle
                | zdo_t.NodeDescriptor.MACCapabilityFlags.AllocateAddress),
            manufacturer_code=0x1234, maximum_buffer_size=82,
            maximum_incoming_transfer_size=82, server_mask=0x2C00,
            maximum_outgoing_transfer_size=82,
            descriptor_capability_field=zdo_t.NodeDescriptor.DescriptorCapability.NONE)

    def simple_descriptors(self) -> list[zdo_t.SimpleDescriptor]:
        return [zdo_t.SimpleDescriptor(
            endpoint=1, profile=SMART_ENERGY_PROFILE, device_type=METERING_DEVICE,
            device_version=0, input_clusters=list(ESME_SERVER_CLUSTERS),
            output_clusters=[])]

    def attributes(self) -> dict[int, dict[str, object]]:
        """ZCL attribute values by cluster id and zigpy attribute name."""
        return {
            0x0000: {"manufacturer": self.manufacturer, "model": self.model,
                     "power_source": 0x01, "zcl_version": 8},  # mains, single phase
            0x0702: {"current_summ_delivered": self.energy_wh, "unit_of_measure": 0x00,
                     "multiplier": 1, "divisor": 1000, "status": 0,
                     "metering_device_type": 0x00},  # kWh, electric metering
        }

    def mac_capabilities(self) -> int:
        return int(self.node_descriptor().mac_capability_flags)


@dataclass(frozen=True)
class MeterVerdict:
    joined: bool
    reason: str


class MeterJoiner(Protocol):
    """Decides whether ``meter`` joins, given the key the coordinator holds for it (or None)."""

    def __call__(self, network: NetworkParameters, meter: EmulatedMeter,
                 coordinator_key: bytes | None) -> MeterVerdict: ...


def key_level_join(network: NetworkParameters, meter: EmulatedMeter,
                   coordinator_key: bytes | None) -> MeterVerdict:
    """The meter joins when the coordinator's key for it is its install-code link key.

    That is exactly when the APS Transport Key the trust centre sends (encrypted with
    the key-transport key derived from its link key) decrypts on the meter.
    """
    if coordinator_key is None:
        return MeterVerdict(False, "the coordinator holds no install-code key for this EUI-64")
    if coordinator_key != meter.link_key:
        return MeterVerdict(False, "install-code link key mismatch: Transport Key not decrypted")
    return MeterVerdict(True, "install-code link key matched")


@dataclass(frozen=True)
class JoinOutcome:
    """A join that happened, or a permit window that closed without one (0x8F49 / 0x8F48)."""

    ieee: zt.EUI64
    joined: bool
    time: float
    reason: str
    nwk: int | None = None

    @property
    def device_id(self) -> str:
        return to_device_id(self.ieee)

    def describe(self) -> str:
        what = "joined" if self.joined else "did not join"
        where = f" as 0x{self.nwk:04X}" if self.nwk is not None else ""
        return f"{self.time:.1f}s meter {self.ieee} {what}{where}: {self.reason}"

