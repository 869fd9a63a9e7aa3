"""GBZ: the ZigBee side of GBCS (GBCS 7.2.8), what a GSME's use cases carry instead of
DLMS: a ZigBee Smart Energy profile header, then ZCL commands (each one component), or
for an alert its code and time stamp and any use-case content.

The ZCL frames themselves are zigpy's (header and foundation command schemas), so the
commands are what zigpy would send and parse; only GBZ's own framing is written here.
"""

from __future__ import annotations

import datetime as dt

import zigpy.types as zt
from zigpy.zcl import foundation

#: The ZigBee Smart Energy profile ID every GBZ payload starts with.
SMART_ENERGY_PROFILE = 0x0109
#: Extended header control field: bit 0 marks the last component of the payload.
LAST_COMPONENT = 0x01
#: ZigBee UTCTime counts seconds from 2000-01-01 00:00:00 UTC.
ZIGBEE_EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


def utc_time(when: dt.datetime) -> bytes:
    """A GBZ time stamp: ZigBee UTCTime, big-endian as GBZ writes its headers."""
    return int((when - ZIGBEE_EPOCH).total_seconds()).to_bytes(4)


def component(cluster: int, zcl_frame: bytes, last: bool = True) -> bytes:
    """One GBZ component: control field, cluster ID and the ZCL frame's length and bytes."""
    return (bytes([LAST_COMPONENT if last else 0x00]) + cluster.to_bytes(2)
            + len(zcl_frame).to_bytes(2) + zcl_frame)


def payload(*components: bytes) -> bytes:
    """A GBZ command or response: the profile, how many components, the components."""
    return SMART_ENERGY_PROFILE.to_bytes(2) + bytes([len(components)]) + b"".join(components)


def alert(code: int, when: dt.datetime, content: bytes = b"", components: int = 0) -> bytes:
    """A GBZ alert: the profile, the component count GBCS gives the use case (0 for a
    generic alert), the alert code, its time stamp and any use-case content."""
    return (SMART_ENERGY_PROFILE.to_bytes(2) + bytes([components]) + code.to_bytes(2)
            + utc_time(when) + content)


def read_attributes(tsn: int, attributes: list[int]) -> bytes:
    """A ZCL Read Attributes command (client to server) as GBZ sends it."""
    command = foundation.GeneralCommand.Read_Attributes
    header = foundation.ZCLHeader.general(tsn, command,
                                          direction=foundation.Direction.Client_to_Server)
    body = foundation.GENERAL_COMMANDS[command].schema(attribute_ids=attributes)
    return header.serialize() + body.serialize()


def read_attributes_response(tsn: int, values: dict[int, foundation.TypeValue]) -> bytes:
    """A ZCL Read Attributes Response (server to client), one success record per value."""
    command = foundation.GeneralCommand.Read_Attributes_rsp
    # zigpy sets Disable Default Response on server-to-client frames; GBZ (RTDS GCS38) does not
    control = foundation.FrameControl(
        frame_type=foundation.FrameType.GLOBAL_COMMAND, is_manufacturer_specific=False,
        direction=foundation.Direction.Server_to_Client, disable_default_response=False,
        reserved=0)
    header = foundation.ZCLHeader(frame_control=control, tsn=tsn, command_id=command)
    records = [foundation.ReadAttributeRecord(zt.uint16_t(attribute), foundation.Status.SUCCESS,
                                              value) for attribute, value in values.items()]
    body = foundation.GENERAL_COMMANDS[command].schema(status_records=records)
    return header.serialize() + body.serialize()


def octet_string(value: bytes) -> foundation.TypeValue:
    """A ZCL octet string attribute value."""
    return foundation.TypeValue(foundation.DataTypeId.octstr, zt.LVBytes(value))
