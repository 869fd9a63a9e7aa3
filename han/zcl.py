"""The Smart Energy ZCL exchange after a join: the CHF reads the ESME's Metering attributes.

Frames are zigpy's ZCL header and foundation command schemas, so what we send is what
zigpy itself would send and parse.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import zigpy.types as zt
from zigpy.zcl import foundation
from zigpy.zcl.clusters.smartenergy import Metering

METERING = Metering.cluster_id
#: CurrentSummationDelivered and UnitofMeasure: the first thing a hub asks an ESME.
READ_ATTRIBUTES = (0x0000, 0x0300)
_READ = foundation.GeneralCommand.Read_Attributes
_READ_RSP = foundation.GeneralCommand.Read_Attributes_rsp
_UNIT_KWH = 0x00  # MeteringUnitofMeasure.kWh_and_kWh_per_hour


def read_attributes(tsn: int, attributes: tuple[int, ...] = READ_ATTRIBUTES) -> bytes:
    header = foundation.ZCLHeader.general(tsn, _READ, direction=foundation.Direction.Client_to_Server)
    body = foundation.GENERAL_COMMANDS[_READ].schema(attribute_ids=list(attributes))
    return header.serialize() + body.serialize()


def server_header(tsn: int, command: int, manufacturer: int | None = None) -> foundation.ZCLHeader:
    """A server-to-client general command header with Disable Default Response set: a reply
    or a report wants no Default Response back."""
    header = foundation.ZCLHeader.general(tsn, command, manufacturer=manufacturer,
                                          direction=foundation.Direction.Server_to_Client)
    # zigpy's Struct.replace is annotated as taking dicts; build the copy it would.
    header.frame_control = foundation.FrameControl(
        **{**header.frame_control.as_dict(), "disable_default_response": True})
    return header


def parse(payload: bytes) -> tuple[foundation.ZCLHeader, Any]:
    """(header, command) for a general (profile-wide) ZCL command; ``ValueError`` otherwise.

    The command is an instance of the schema zigpy builds at run time, hence ``Any``."""
    header, rest = foundation.ZCLHeader.deserialize(payload)
    if not header.frame_control.is_general:
        raise ValueError("cluster-specific ZCL command not handled")
    command = foundation.GENERAL_COMMANDS.get(foundation.GeneralCommand(header.command_id))
    if command is None:
        raise ValueError(f"unknown ZCL general command 0x{header.command_id:02X}")
    body, _ = command.schema.deserialize(rest)
    return header, body


@dataclass(frozen=True)
class MeterReading:
    """What the ESME answers: its register in Wh (summation delivered, unit kWh, no multiplier here)."""

    summation_delivered: int

    def respond(self, tsn: int, attributes: list[int]) -> bytes:
        """Read Attributes Response: a record per asked attribute, unsupported ones flagged."""
        values = {
            0x0000: foundation.TypeValue(foundation.DataTypeId.uint48, zt.uint48_t(self.summation_delivered)),
            0x0300: foundation.TypeValue(foundation.DataTypeId.enum8, zt.enum8(_UNIT_KWH)),
        }
        records = []
        for attrid in attributes:
            if attrid in values:
                records.append(foundation.ReadAttributeRecord(
                    zt.uint16_t(attrid), foundation.Status.SUCCESS, values[attrid]))
            else:
                records.append(foundation.ReadAttributeRecord(
                    zt.uint16_t(attrid), foundation.Status.UNSUPPORTED_ATTRIBUTE))
        header = server_header(tsn, _READ_RSP)
        body = foundation.GENERAL_COMMANDS[_READ_RSP].schema(status_records=records)
        return header.serialize() + body.serialize()
