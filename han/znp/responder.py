"""What a HAN node answers when zigpy talks to it: ZDO descriptors, ZCL attribute reads.

The coordinator answers ZDO requests addressed to itself (Z-Stack does, and zigpy's
coordinator interview waits for them); an emulated meter answers its own interview.
Payloads are built and parsed with zigpy's ZDO and ZCL definitions.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import zigpy.types as zt
import zigpy.zdo.types as zdo_t
from zigpy.zcl import Cluster, foundation

ZDO_STATUS_NOT_SUPPORTED = zdo_t.Status.NOT_SUPPORTED
QUIET_ENERGY = 0x10  # ED scan value of an idle 2.4 GHz channel


@dataclass
class HanNode:
    """A node's identity and descriptors, enough to answer an interview."""

    nwk: int
    ieee: zt.EUI64
    node_descriptor: zdo_t.NodeDescriptor
    endpoints: dict[int, zdo_t.SimpleDescriptor] = field(default_factory=dict)
    attributes: dict[int, dict[str, object]] = field(default_factory=dict)  # cluster -> name -> value


def _zdo(cluster: zdo_t.ZDOCmd, tsn: int, *args) -> tuple[int, bytes]:
    _, schema = zdo_t.CLUSTERS[cluster]
    return int(cluster), bytes([tsn]) + zt.serialize(args, schema)


def answer_zdo(node: HanNode, cluster_id: int, data: bytes) -> tuple[int, bytes] | None:
    """(response cluster, payload with TSN) for a ZDO request to ``node``, or None."""
    if not data or cluster_id >= 0x8000:
        return None
    tsn = data[0]
    try:
        cmd = zdo_t.ZDOCmd(cluster_id)
        args, _ = zt.deserialize(data[1:], zdo_t.CLUSTERS[cmd][1])
    except (KeyError, ValueError):
        return None
    ok = zdo_t.Status.SUCCESS
    nwk = zt.NWK(node.nwk)
    if cmd == zdo_t.ZDOCmd.Node_Desc_req:
        return _zdo(zdo_t.ZDOCmd.Node_Desc_rsp, tsn, ok, nwk, node.node_descriptor)
    if cmd == zdo_t.ZDOCmd.Active_EP_req:
        return _zdo(zdo_t.ZDOCmd.Active_EP_rsp, tsn, ok, nwk, sorted(node.endpoints))
    if cmd == zdo_t.ZDOCmd.Simple_Desc_req:
        descriptor = node.endpoints.get(int(args[1]))
        if descriptor is None:
            return _zdo(zdo_t.ZDOCmd.Simple_Desc_rsp, tsn, zdo_t.Status.NOT_ACTIVE, nwk)
        sized = zdo_t.SizePrefixedSimpleDescriptor(*descriptor.as_tuple())
        return _zdo(zdo_t.ZDOCmd.Simple_Desc_rsp, tsn, ok, nwk, sized)
    if cmd == zdo_t.ZDOCmd.IEEE_addr_req:
        return _zdo(zdo_t.ZDOCmd.IEEE_addr_rsp, tsn, ok, node.ieee, nwk, 0, 0, [])
    if cmd == zdo_t.ZDOCmd.NWK_addr_req:
        return _zdo(zdo_t.ZDOCmd.NWK_addr_rsp, tsn, ok, node.ieee, nwk, 0, 0, [])
    if cmd == zdo_t.ZDOCmd.Mgmt_Leave_req and node.nwk != 0x0000:
        return _zdo(zdo_t.ZDOCmd.Mgmt_Leave_rsp, tsn, ok)  # the caller makes it leave
    if cmd == zdo_t.ZDOCmd.Mgmt_NWK_Update_req and args[0].ScanDuration <= 5:
        # An energy scan: the simulated air is quiet on every channel.
        channels = zt.Channels(args[0].ScanChannels)
        energies = [QUIET_ENERGY] * len(list(channels))
        return _zdo(zdo_t.ZDOCmd.Mgmt_NWK_Update_rsp, tsn, ok, channels, 0, 0, energies)
    response = cluster_id | 0x8000
    if response in zdo_t.ZDOCmd._value2member_map_:
        return response, bytes([tsn, ZDO_STATUS_NOT_SUPPORTED])
    return None


def answer_zcl(node: HanNode, cluster_id: int, data: bytes) -> bytes | None:
    """A ZCL reply from ``node``: attribute reads it can serve, else a Default Response."""
    try:
        hdr, payload = foundation.ZCLHeader.deserialize(data)
    except (ValueError, KeyError):
        return None
    to_client = foundation.Direction.Server_to_Client
    if hdr.frame_control.direction == to_client:
        return None  # a reply or report addressed to us: nothing to answer
    if (hdr.frame_control.frame_type == foundation.FrameType.GLOBAL_COMMAND
            and hdr.command_id == foundation.GeneralCommand.Read_Attributes):
        try:
            attribute_ids, _ = zt.List[zt.uint16_t].deserialize(payload)
        except ValueError:
            return None
        reply = foundation.ZCLHeader.general(
            hdr.tsn, foundation.GeneralCommand.Read_Attributes_rsp,
            manufacturer=hdr.manufacturer, direction=to_client)
        return reply.serialize() + b"".join(
            _read_record(node, cluster_id, attrid).serialize() for attrid in attribute_ids)
    if hdr.frame_control.disable_default_response:
        return None
    reply = foundation.ZCLHeader.general(
        hdr.tsn, foundation.GeneralCommand.Default_Response,
        manufacturer=hdr.manufacturer, direction=to_client)
    reply.frame_control = reply.frame_control.replace(disable_default_response=True)
    status = foundation.Status.UNSUP_CLUSTER_COMMAND if hdr.frame_control.frame_type \
        == foundation.FrameType.CLUSTER_COMMAND else foundation.Status.UNSUP_GENERAL_COMMAND
    return reply.serialize() + bytes([hdr.command_id, status])


def _read_record(node: HanNode, cluster_id: int, attrid: int) -> foundation.ReadAttributeRecord:
    """One attribute, typed by zigpy's definition of the cluster."""
    record = foundation.ReadAttributeRecord(attrid=attrid)
    values = node.attributes.get(cluster_id, {})
    cluster = Cluster._registry.get(cluster_id)
    try:
        attr = cluster.find_attribute(attrid) if cluster is not None else None
    except KeyError:
        attr = None
    if attr is None or attr.name not in values:
        record.status = foundation.Status.UNSUPPORTED_ATTRIBUTE
        return record
    record.status = foundation.Status.SUCCESS
    record.value = foundation.TypeValue(type=attr.zcl_type, value=attr.type(values[attr.name]))
    return record
