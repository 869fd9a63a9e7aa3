"""What a HAN node answers when a host talks to it over the air: ZDO and ZCL.

The coordinator answers ZDO requests addressed to itself (Z-Stack does, and the hosts'
coordinator interviews wait for them); an emulated meter answers its own interview,
attribute reads, Bind and Configure Reporting, and network-map requests. Payloads are
built and parsed with zigpy's ZDO and ZCL definitions, whichever host sent them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import zigpy.types as zt
import zigpy.zdo.types as zdo_t
from zigpy.zcl import Cluster, foundation

from han.zcl import server_header

ZDO_STATUS_NOT_SUPPORTED = zdo_t.Status.NOT_SUPPORTED
MAX_TABLE_ROWS = 3  # rows of a Mgmt_Lqi/Rtg/Bind response (as Z-Stack sends them)
MAX_BINDINGS = 16  # a meter's binding table


@dataclass(frozen=True)
class ReportConfig:
    """One attribute's reporting, as Configure Reporting set it."""

    attribute: int
    data_type: int
    minimum: int
    maximum: int


@dataclass
class HanNode:
    """A node's identity and descriptors, enough to answer an interview."""

    nwk: int
    ieee: zt.EUI64
    node_descriptor: zdo_t.NodeDescriptor
    endpoints: dict[int, zdo_t.SimpleDescriptor] = field(default_factory=dict)
    attributes: dict[int, dict[str, object]] = field(default_factory=dict)  # cluster -> name -> value
    neighbors: list[zdo_t.Neighbor] = field(default_factory=list)
    routes: list[zdo_t.Route] = field(default_factory=list)
    bindings: list[zdo_t.Binding] = field(default_factory=list)  # kept by the caller
    reporting: dict[tuple[int, int], ReportConfig] = field(default_factory=dict)  # kept too
    energy_scan: Callable[[list[int]], list[int]] | None = None  # the coordinator's radio
    change_channel: Callable[[int], None] | None = None  # the coordinator's network manager


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
    if cmd == zdo_t.ZDOCmd.Mgmt_NWK_Update_req:
        return _network_update(node, tsn, args[0])
    if cmd in (zdo_t.ZDOCmd.Bind_req, zdo_t.ZDOCmd.Unbind_req) and node.nwk != 0x0000:
        return _bind(node, cmd, tsn, zdo_t.Binding(*args))
    if cmd == zdo_t.ZDOCmd.Mgmt_Lqi_req:
        start, rows = _rows(node.neighbors, args[0])
        return _zdo(zdo_t.ZDOCmd.Mgmt_Lqi_rsp, tsn, ok, zdo_t.Neighbors(
            Entries=len(node.neighbors), StartIndex=start, NeighborTableList=rows))
    if cmd == zdo_t.ZDOCmd.Mgmt_Rtg_req:
        start, rows = _rows(node.routes, args[0])
        return _zdo(zdo_t.ZDOCmd.Mgmt_Rtg_rsp, tsn, ok, zdo_t.Routes(
            Entries=len(node.routes), StartIndex=start, RoutingTableList=rows))
    if cmd == zdo_t.ZDOCmd.Mgmt_Bind_req:
        start, rows = _rows(node.bindings, args[0])
        return _zdo(zdo_t.ZDOCmd.Mgmt_Bind_rsp, tsn, ok, len(node.bindings), start, rows)
    response = cluster_id | 0x8000
    if response in zdo_t.ZDOCmd._value2member_map_:
        return response, bytes([tsn, ZDO_STATUS_NOT_SUPPORTED])
    return None


def _rows(table: list, start: int) -> tuple[int, list]:
    return start, table[start:start + MAX_TABLE_ROWS]


def _network_update(node: HanNode, tsn: int, update: zdo_t.NwkUpdate) -> tuple[int, bytes] | None:
    """An energy scan (the node's radio measures) or a channel change (no response)."""
    mask = int(update.ScanChannels)
    channels = [channel for channel in range(11, 27) if mask & (1 << channel)]
    if mask & ~int(zt.Channels.ALL_CHANNELS) or not channels:  # not 2.4 GHz channels
        return _zdo(zdo_t.ZDOCmd.Mgmt_NWK_Update_rsp, tsn, zdo_t.Status.INV_REQUESTTYPE,
                    zt.Channels(0), 0, 0, [])
    if update.ScanDuration == zdo_t.NwkUpdate.CHANNEL_CHANGE_REQ:  # move, no response
        if node.change_channel is not None and len(channels) == 1:
            node.change_channel(channels[0])
        return None
    if update.ScanDuration > 5 or node.energy_scan is None:
        return _zdo(zdo_t.ZDOCmd.Mgmt_NWK_Update_rsp, tsn, zdo_t.Status.NOT_SUPPORTED,
                    zt.Channels(0), 0, 0, [])
    return _zdo(zdo_t.ZDOCmd.Mgmt_NWK_Update_rsp, tsn, zdo_t.Status.SUCCESS,
                zt.Channels(mask), 0, 0, node.energy_scan(channels))


def _bind(node: HanNode, cmd: zdo_t.ZDOCmd, tsn: int,
          binding: zdo_t.Binding) -> tuple[int, bytes]:
    """Bind/Unbind on the meter's own table (ZigBee 2.4.3.2.2/2.4.3.2.3 statuses)."""
    response = zdo_t.ZDOCmd.Bind_rsp if cmd == zdo_t.ZDOCmd.Bind_req \
        else zdo_t.ZDOCmd.Unbind_rsp
    descriptor = node.endpoints.get(int(binding.SrcEndpoint))
    if binding.SrcAddress != node.ieee or descriptor is None:
        return _zdo(response, tsn, zdo_t.Status.INVALID_EP)
    if int(binding.ClusterId) not in (*descriptor.input_clusters, *descriptor.output_clusters):
        return _zdo(response, tsn, zdo_t.Status.NOT_SUPPORTED)
    present = binding in node.bindings
    if cmd == zdo_t.ZDOCmd.Unbind_req:
        if not present:
            return _zdo(response, tsn, zdo_t.Status.NO_ENTRY)
        node.bindings.remove(binding)
    elif not present:
        if len(node.bindings) >= MAX_BINDINGS:
            return _zdo(response, tsn, zdo_t.Status.TABLE_FULL)
        node.bindings.append(binding)
    return _zdo(response, tsn, zdo_t.Status.SUCCESS)


def answer_zcl(node: HanNode, cluster_id: int, data: bytes) -> bytes | None:
    """A ZCL reply from ``node``: the global commands a meter serves (Read Attributes,
    Configure Reporting, Discover Attributes), else a Default Response saying so."""
    try:
        hdr, payload = foundation.ZCLHeader.deserialize(data)
    except (ValueError, KeyError):
        return None
    if hdr.frame_control.direction == foundation.Direction.Server_to_Client:
        return None  # a reply or report addressed to us: nothing to answer
    is_global = hdr.frame_control.frame_type == foundation.FrameType.GLOBAL_COMMAND
    serve = _GLOBAL_COMMANDS.get(hdr.command_id) if is_global else None
    if serve is not None and cluster_id in node.attributes:
        try:
            answer = serve(node, cluster_id, payload)
        except (ValueError, KeyError):
            answer = None  # malformed: the Default Response below says so
        if answer is not None:
            command, body = answer
            return _reply_header(hdr, command).serialize() + body
        status = foundation.Status.MALFORMED_COMMAND
    elif is_global:
        status = foundation.Status.UNSUP_GENERAL_COMMAND
    else:
        status = foundation.Status.UNSUP_CLUSTER_COMMAND
    if hdr.frame_control.disable_default_response:
        return None
    reply = _reply_header(hdr, foundation.GeneralCommand.Default_Response)
    return reply.serialize() + bytes([hdr.command_id, status])


def _reply_header(hdr: foundation.ZCLHeader, command: int) -> foundation.ZCLHeader:
    return server_header(hdr.tsn, command, hdr.manufacturer)


def _read_attributes(node: HanNode, cluster_id: int, payload: bytes) -> tuple[int, bytes]:
    attribute_ids, _ = zt.List[zt.uint16_t].deserialize(payload)
    return foundation.GeneralCommand.Read_Attributes_rsp, b"".join(
        _read_record(node, cluster_id, attrid).serialize() for attrid in attribute_ids)


def _configure_reporting(node: HanNode, cluster_id: int, payload: bytes) -> tuple[int, bytes]:
    """Keep each reportable attribute's intervals; the caller sends the reports."""
    configs, _ = zt.List[foundation.AttributeReportingConfig].deserialize(payload)
    failures = []
    for config in configs:
        attr = _attribute(node, cluster_id, int(config.attrid))
        if config.direction != foundation.ReportingDirection.SendReports:
            status = foundation.Status.UNSUPPORTED_ATTRIBUTE  # we keep no received-report timeouts
        elif attr is None:
            status = foundation.Status.UNSUPPORTED_ATTRIBUTE
        elif config.datatype != attr.zcl_type:
            status = foundation.Status.INVALID_DATA_TYPE
        elif config.max_interval and config.min_interval > config.max_interval:
            status = foundation.Status.INVALID_VALUE
        else:
            key = (cluster_id, int(config.attrid))
            if config.max_interval == 0xFFFF:
                node.reporting.pop(key, None)  # 0xFFFF: stop reporting this attribute
            else:
                node.reporting[key] = ReportConfig(int(config.attrid), int(attr.zcl_type),
                                                   int(config.min_interval),
                                                   int(config.max_interval))
            continue
        failures.append(foundation.ConfigureReportingResponseRecord(
            status=status, direction=config.direction, attrid=config.attrid))
    if not failures:  # ZCL 2.5.8: all succeeded -> one record, status only
        return foundation.GeneralCommand.Configure_Reporting_rsp, bytes([foundation.Status.SUCCESS])
    return foundation.GeneralCommand.Configure_Reporting_rsp, b"".join(
        record.serialize() for record in failures)


def _discover_attributes(node: HanNode, cluster_id: int, payload: bytes) -> tuple[int, bytes]:
    start, rest = zt.uint16_t.deserialize(payload)
    most, _ = zt.uint8_t.deserialize(rest)
    cluster = Cluster._registry.get(cluster_id)
    known = sorted(
        (attr.id, attr.zcl_type) for attr in (cluster.attributes.values() if cluster else ())
        if attr.name in node.attributes.get(cluster_id, {}) and attr.id >= start)
    shown = known[:most]
    return foundation.GeneralCommand.Discover_Attributes_rsp, bytes(
        [len(shown) == len(known)]) + b"".join(
        foundation.DiscoverAttributesResponseRecord(attrid=a, datatype=d).serialize()
        for a, d in shown)


_GLOBAL_COMMANDS: dict[int, Callable[[HanNode, int, bytes], tuple[int, bytes] | None]] = {
    foundation.GeneralCommand.Read_Attributes: _read_attributes,
    foundation.GeneralCommand.Configure_Reporting: _configure_reporting,
    foundation.GeneralCommand.Discover_Attributes: _discover_attributes,
}


def attribute_report(node: HanNode, cluster_id: int, tsn: int,
                     configs: list[ReportConfig]) -> bytes:
    """A Report Attributes frame (server to client) with the current values."""
    hdr = server_header(tsn, foundation.GeneralCommand.Report_Attributes)
    records = []
    for config in configs:
        record = _read_record(node, cluster_id, config.attribute)
        if record.status == foundation.Status.SUCCESS:
            records.append(foundation.Attribute(attrid=config.attribute, value=record.value))
    return hdr.serialize() + b"".join(record.serialize() for record in records)


def _attribute(node: HanNode, cluster_id: int, attrid: int):
    """zigpy's definition of an attribute the node holds, or None."""
    cluster = Cluster._registry.get(cluster_id)
    try:
        attr = cluster.find_attribute(attrid) if cluster is not None else None
    except KeyError:
        return None
    if attr is None or attr.name not in node.attributes.get(cluster_id, {}):
        return None
    return attr


def _read_record(node: HanNode, cluster_id: int, attrid: int) -> foundation.ReadAttributeRecord:
    """One attribute, typed by zigpy's definition of the cluster."""
    record = foundation.ReadAttributeRecord(attrid=zt.uint16_t(attrid))
    attr = _attribute(node, cluster_id, attrid)
    if attr is None:
        record.status = foundation.Status.UNSUPPORTED_ATTRIBUTE
        return record
    record.status = foundation.Status.SUCCESS
    value = node.attributes[cluster_id][attr.name]
    record.value = foundation.TypeValue(type=attr.zcl_type, value=attr.type(value))
    return record
