"""A TI Z-Stack 3.30 coordinator (CC2652) speaking ZNP MT, sans-IO.

Bytes from the host go in with :meth:`ZStackEmulator.receive`, bytes for the host come
out of :meth:`ZStackEmulator.take_output`; time is whatever the caller says it is
(:meth:`advance`), so the same emulator runs on a PTY, a TCP port or in a unit test.
Frames are parsed and built with zigpy-znp's own command definitions, so anything
zigpy-znp sends is understood the way it means it. Unknown or malformed requests get
the RPC error Z-Stack sends; nothing on the serial line can raise out of here.
"""

from __future__ import annotations

import functools
import logging
import random
from collections.abc import Callable

import zigpy.types as zt
import zigpy.zdo.types as zdo_t
import zigpy_znp.commands as c
import zigpy_znp.const as const
import zigpy_znp.types as t
from zigpy_znp.frames import GeneralFrame
from zigpy_znp.types.nvids import ExNvIds, OsalNvIds

from han.coordinator.core import COORDINATOR_NWK, LINK_LQI, ZDO_ENDPOINT, Air, Coordinator
from han.installcode import InstallCode, InstallCodeError
from han.znp import zdo_mt
from han.znp.framing import FrameReader, encode, encode_frame
from han.znp.meters import EmulatedMeter, JoinOutcome, MeterJoiner, NetworkParameters, key_level_join
from han.znp.nvram import TABLE_CAPACITY, ZStackNvram, serialize
from han.znp.responder import HanNode

LOGGER = logging.getLogger(__name__)

CODE_REVISION = 20230507  # a Z-Stack 3.x build date after every zigpy-znp workaround
CAPABILITIES = (t.MTCapabilities.SYS | t.MTCapabilities.AF | t.MTCapabilities.ZDO
                | t.MTCapabilities.UTIL | t.MTCapabilities.APP_CNF)
DEFAULT_CHANNEL_MASK = t.Channels.from_channel_list([11])
MGMT_PERMIT_JOINING_REQ = 0x0036
DEVICE_ANNCE = 0x0013
ASSOC_ADD = 0x64  # UTIL_ASSOC_ADD (Z-Stack builds for Zigbee2MQTT): IEEE, NWK, relation
MAX_GROUPS = 16  # groups per endpoint table


class ZStackEmulator:
    """Z-Stack's MT front end and NV over the shared coordinator core."""

    def __init__(self, *, ieee: zt.EUI64 | None = None, meters: tuple[EmulatedMeter, ...] = (),
                 joiner: MeterJoiner = key_level_join, seed: int = 0,
                 join_delay: float = 0.5,
                 on_outcome: Callable[[JoinOutcome], None] | None = None,
                 air: Air | None = None) -> None:
        self._rng = random.Random(seed)
        self.ieee = ieee or zt.EUI64(bytes([self._rng.getrandbits(8) for _ in range(5)])
                                     + bytes([0x4B, 0x12, 0x00]))  # TI OUI 00:12:4B
        self.nvram = ZStackNvram(self.ieee)
        self.core = Coordinator(self, self, meters=meters, joiner=joiner, rng=self._rng,
                                join_delay=join_delay, on_outcome=on_outcome, air=air)
        self._reader = FrameReader()
        self._tx = bytearray()
        self._reset_volatile()
        self._handlers: dict[type, Callable] = {
            c.SYS.Ping.Req: self._ping, c.SYS.Version.Req: self._version,
            c.SYS.ResetReq.Req: self._reset, c.SYS.SetTxPower.Req: self._tx_power,
            c.SYS.GetExtAddr.Req: self._get_ext_addr,
            c.UTIL.GetDeviceInfo.Req: self._get_device_info,
            c.UTIL.AssocRemove.Req: self._assoc_remove,
            c.ZDO.StartupFromApp.Req: self._startup_from_app,
            c.ZDO.ExtFindGroup.Req: self._find_group, c.ZDO.ExtAddGroup.Req: self._add_group,
            c.AF.DataRequest.Req: self._af_data_request,
            c.UTIL.AssocFindDevice.Req: self._assoc_find,
            c.UTIL.AssocGetWithAddress.Req: self._assoc_get,
            c.UTIL.LEDControl.Req: self._status_ok,
            c.AppConfig.BDBSetChannel.Req: self._bdb_set_channel,
            c.AppConfig.BDBStartCommissioning.Req: self._bdb_commission,
            c.AppConfig.BDBAddInstallCode.Req: self._bdb_add_install_code,
            c.AppConfig.BDBSetJoinUsesInstallCodeKey.Req: self._bdb_join_uses_ic,
            c.ZDO.MgmtPermitJoinReq.Req: self._permit_join,
            c.ZDO.MsgCallbackRegister.Req: self._status_ok,
            c.ZDO.ExtRouteChk.Req: self._route_check,
            c.ZDO.ExtRouteDisc.Req: self._status_ok,
            c.AF.Register.Req: self._af_register,
            c.AF.DataRequestExt.Req: self._af_data_request,
        }
        for request_cls, serve in self.nvram.commands().items():
            self._handlers[request_cls] = lambda req, serve=serve: self._send(serve(req))
        # Requests whose layout zigbee-herdsman and zigpy-znp define differently, or that
        # carry ZDO: read from the raw bytes as Z-Stack's MT API lays them out.
        zdo = int(t.Subsystem.ZDO)
        self._raw_handlers: dict[tuple[int, int], Callable[[bytes], None]] = {
            (zdo, command): functools.partial(self._zdo_request, command)
            for command in zdo_mt.REQUESTS}
        self._raw_handlers[(zdo, c.ZDO.ExtNwkInfo.Req.header.id)] = self._ext_nwk_info
        self._raw_handlers[(int(t.Subsystem.UTIL), ASSOC_ADD)] = self._assoc_add

    # -- the serial line ------------------------------------------------------------
    def receive(self, data: bytes, now: float | None = None) -> None:
        """Bytes from the host; every complete frame is answered at once."""
        if now is not None:
            self.advance(now)
        for frame in self._reader.feed(data, self.now):
            self._dispatch(frame)

    def new_line(self) -> None:
        """A new host connection: no half-received frame or unsent reply carries over
        from the last host (the stick's network and NV stay)."""
        self._reader = FrameReader()
        self._tx.clear()

    def take_output(self) -> bytes:
        out, self._tx = bytes(self._tx), bytearray()
        return out

    def _send(self, *commands: t.CommandBase) -> None:
        for command in commands:
            self._tx += encode(command)

    def _dispatch(self, frame: GeneralFrame) -> None:
        header = frame.header
        is_sreq = header.type == t.CommandType.SREQ
        if not is_sreq and header.type != t.CommandType.AREQ:
            return  # SRSPs and callbacks are ours to send, not to receive
        raw = self._raw_handlers.get((int(header.subsystem), int(header.id))) if is_sreq else None
        if raw is not None:
            raw(bytes(frame.data))
            return
        command_cls = c.COMMANDS_BY_ID.get(header)
        handler = self._handlers.get(command_cls)
        if handler is None:
            LOGGER.debug("not implemented: %s", header)
            if is_sreq:
                self._rpc_error(c.rpc_error.ErrorCode.InvalidCommandId, header)
            return
        try:
            request = command_cls.from_frame(frame, align=True)
        except Exception:  # noqa: BLE001 - any field can be malformed on the wire
            LOGGER.debug("malformed %s: %s", command_cls.__qualname__, bytes(frame.data).hex())
            if is_sreq:
                self._rpc_error(c.rpc_error.ErrorCode.InvalidParameter, header)
            return
        LOGGER.debug("request %s", request)
        try:
            handler(request)
        except Exception:  # a stick answers every request, even one it cannot serve
            LOGGER.exception("cannot serve %s", request)
            if is_sreq:
                self._rpc_error(c.rpc_error.ErrorCode.InvalidParameter, header)

    def _rpc_error(self, code: c.rpc_error.ErrorCode, header: t.CommandHeader) -> None:
        self._send(c.RPCError.CommandNotRecognized.Rsp(ErrorCode=code, RequestHeader=header))

    def _send_raw(self, kind: t.CommandType, subsystem: int, command: int, data: bytes) -> None:
        header = t.CommandHeader(0).with_type(kind).with_subsystem(
            t.Subsystem(subsystem)).with_id(command)
        self._tx += encode_frame(GeneralFrame(header, t.Bytes(data)))

    # -- time -----------------------------------------------------------------------
    @property
    def now(self) -> float:
        return self.core.now

    def advance(self, now: float) -> None:
        """Run everything due up to ``now`` (seconds, any origin, never decreasing)."""
        self.core.advance(now)

    def next_deadline(self) -> float | None:
        return self.core.next_deadline()

    # -- SYS --------------------------------------------------------------------------
    def _ping(self, req) -> None:
        self._send(c.SYS.Ping.Rsp(Capabilities=CAPABILITIES))

    def _version(self, req) -> None:
        self._send(c.SYS.Version.Rsp(
            TransportRev=2, ProductId=1, MajorRel=2, MinorRel=7, MaintRel=1,
            CodeRevision=CODE_REVISION,
            BootloaderBuildType=c.sys.BootloaderBuildType.NON_BOOTLOADER_BUILD,
            BootloaderRevision=0xFFFFFFFF))

    def _tx_power(self, req) -> None:
        self._send(c.SYS.SetTxPower.Rsp(StatusOrPower=t.Status.SUCCESS))

    def _status_ok(self, req) -> None:
        self._send(req.Rsp(Status=t.Status.SUCCESS))

    def _get_ext_addr(self, req) -> None:
        self._send(req.Rsp(ExtAddr=self.coordinator_ieee()))

    def _get_device_info(self, req) -> None:
        joined = sorted(self.core.joined().values())
        self._send(req.Rsp(
            Status=t.Status.SUCCESS, IEEE=self.coordinator_ieee(), NWK=COORDINATOR_NWK,
            DeviceType=t.DeviceTypeCapabilities.Coordinator | t.DeviceTypeCapabilities.Router
            | t.DeviceTypeCapabilities.EndDevice,
            DeviceState=t.DeviceState.StartedAsCoordinator if self.core.started
            else t.DeviceState.InitializedNotStarted,
            AssociatedDevices=t.NWKList(joined)))

    def _startup_from_app(self, req) -> None:
        """Start on the network in NV, or form one from the NV settings (as Z-Stack does)."""
        restored = self._on_network()
        if not restored:
            self._form()
        self._send(req.Rsp(State=c.zdo.StartupState.RestoredNetworkState if restored
                           else c.zdo.StartupState.NewNetworkState))
        self.core.started = True
        self._send(c.ZDO.StateChangeInd.Callback(State=t.DeviceState.StartedAsCoordinator))

    def _ext_nwk_info(self, data: bytes) -> None:
        """ZDO_EXT_NWK_INFO: ShortAddr, DevState, PanId, ParentAddr, ExtPanId,
        ParentExtAddr, Channel (Z-Stack's layout, which zigbee-herdsman reads)."""
        network = self.network()
        pan_id, ext_pan_id, channel = (network.pan_id, network.extended_pan_id,
                                       network.channel) if network else (0xFFFF, bytes(8), 0)
        state = t.DeviceState.StartedAsCoordinator if self.core.started and network \
            else t.DeviceState.InitializedNotStarted
        self._send_raw(t.CommandType.SRSP, t.Subsystem.ZDO, c.ZDO.ExtNwkInfo.Req.header.id,
                       COORDINATOR_NWK.to_bytes(2, "little") + bytes([state])
                       + pan_id.to_bytes(2, "little") + COORDINATOR_NWK.to_bytes(2, "little")
                       + zt.EUI64(ext_pan_id).serialize() + bytes(8) + bytes([channel]))

    def _find_group(self, req) -> None:
        found = int(req.GroupId) in self._groups.get(int(req.Endpoint), set())
        status = t.Status.SUCCESS if found else t.Status.FAILURE  # Status, GroupId, NameLen
        self._send(req.Rsp(Group=t.Bytes(
            bytes([status]) + int(req.GroupId).to_bytes(2, "little") + b"\x00")))

    def _add_group(self, req) -> None:
        groups = self._groups.setdefault(int(req.Endpoint), set())
        if len(groups) >= MAX_GROUPS and int(req.GroupId) not in groups:
            self._send(req.Rsp(Status=t.Status.FAILURE))
            return
        groups.add(int(req.GroupId))
        self._send(req.Rsp(Status=t.Status.SUCCESS))

    def _reset(self, req) -> None:
        """A soft reset: volatile state goes, NVRAM stays (cleared if STARTUP_OPTION says)."""
        option = t.StartupOptions(self.nvram.get(OsalNvIds.STARTUP_OPTION, t.uint8_t, 0))
        if option & (t.StartupOptions.ClearState | t.StartupOptions.ClearConfig):
            self.nvram.factory_reset()
        self.nvram.restore_hardware_address()
        self._reset_volatile()
        self._send(c.SYS.ResetInd.Callback(
            Reason=t.ResetReason.External, TransportRev=2, ProductId=1, MajorRel=2,
            MinorRel=7, MaintRel=1))

    def _reset_volatile(self) -> None:
        self.core.reset()
        self._primary_channels = DEFAULT_CHANNEL_MASK
        self._groups: dict[int, set[int]] = {}

    # -- UTIL -------------------------------------------------------------------------
    def _association(self, nwk: int, relation: c.util.NodeRelation) -> c.util.Device:
        return c.util.Device(
            shortAddr=nwk, addrIdx=0, nodeRelation=relation, devStatus=0, assocCnt=0, age=0,
            linkInfo=c.util.LinkInfo(txCounter=0, txCost=1, rxLqi=255, inKeySeqNum=0,
                                     inFrmCntr=0, txFailure=0),
            endDev=c.util.AgingEndDevice(endDevCfg=0, deviceTimeout=0),
            timeoutCounter=0, keepaliveRcv=0, ctrl=0)

    def _assoc_find(self, req) -> None:
        # zigpy-znp learns the struct packing (36 bytes: aligned) from this reply
        empty = self._association(0xFFFE, c.util.NodeRelation.NOTUSED)
        self._send(req.Rsp(Device=t.Bytes(serialize(empty))))

    def _assoc_get(self, req) -> None:
        node = self.core.joined_nodes().get(req.IEEE)
        relation = c.util.NodeRelation.NEIGHBOR if node else c.util.NodeRelation.NOTUSED
        self._send(req.Rsp(Device=self._association(node.nwk if node else 0xFFFE, relation)))

    def _assoc_remove(self, req) -> None:
        removed = self.core.forget(zt.EUI64(req.IEEE))
        self._send(req.Rsp(Status=t.Status.SUCCESS if removed else t.Status.FAILURE))

    def _assoc_add(self, data: bytes) -> None:
        """UTIL_ASSOC_ADD puts back a child zigbee-herdsman removed while recovering a route."""
        ok = len(data) >= 11
        if ok:
            ieee, nwk = zt.EUI64(data[:8]), int.from_bytes(data[8:10], "little")
            ok = self.core.restore_child(ieee, nwk)
        self._send_raw(t.CommandType.SRSP, t.Subsystem.UTIL, ASSOC_ADD,
                       bytes([t.Status.SUCCESS if ok else t.Status.FAILURE]))

    # -- BDB: forming the network, install codes -----------------------------------------
    def _bdb_set_channel(self, req) -> None:
        if req.IsPrimary:
            self._primary_channels = req.Channel
        self._send(req.Rsp(Status=t.Status.SUCCESS))

    def _bdb_commission(self, req) -> None:
        self._send(req.Rsp(Status=t.Status.SUCCESS))
        mode = req.Mode
        formation = c.app_config.BDBCommissioningMode.NwkFormation
        status = c.app_config.BDBCommissioningStatus.Success
        if mode & formation:
            if self._on_network():
                status = c.app_config.BDBCommissioningStatus.FormationFailure
            else:
                self._form()
                self._send(c.ZDO.StateChangeInd.Callback(
                    State=t.DeviceState.StartingAsCoordinator))
        elif not self._on_network():
            status = c.app_config.BDBCommissioningStatus.NoNetwork
        self._send(c.AppConfig.BDBCommissioningNotification.Callback(
            Status=status, Mode=mode, RemainingModes=c.app_config.BDBCommissioningMode.NONE))
        if self._on_network():
            self.core.started = True
            self._send(c.ZDO.StateChangeInd.Callback(State=t.DeviceState.StartedAsCoordinator))

    def _on_network(self) -> bool:
        return self.nvram.get(OsalNvIds.BDBNODEISONANETWORK, t.uint8_t, 0) == 1

    def _form(self) -> None:
        """Form a network from the NV settings, choosing what they leave open."""
        nv = self.nvram
        mask = int(self._primary_channels)
        channels = [ch for ch in range(11, 27) if mask & (1 << ch)] or [11]
        pan_id = nv.get(OsalNvIds.PANID, t.uint16_t, 0xFFFF)
        if pan_id in (0xFFFF, 0xFFFE):
            pan_id = self._rng.randint(0x0001, 0xFFF0)
        ext_pan_id = nv.get(OsalNvIds.APS_USE_EXT_PANID, t.EUI64, None)
        if ext_pan_id is None or ext_pan_id == t.EUI64(bytes(8)):
            ext_pan_id = t.EUI64(bytes(self._rng.getrandbits(8) for _ in range(8)))
        key = nv.get(OsalNvIds.PRECFGKEY, t.KeyData, None) \
            or t.KeyData(bytes(self._rng.getrandbits(8) for _ in range(16)))
        nv.put(OsalNvIds.NIB, _coordinator_nib(channels[0], pan_id, ext_pan_id,
                                               t.Channels.from_channel_list(channels)))
        nv.put(OsalNvIds.EXTENDED_PAN_ID, ext_pan_id)
        nv.put(OsalNvIds.APS_USE_EXT_PANID, ext_pan_id)
        nv.put(OsalNvIds.PRECFGKEY, key)
        nv.put(OsalNvIds.NWK_ACTIVE_KEY_INFO, t.NwkKeyDesc(KeySeqNum=0, Key=key))
        nv.put(OsalNvIds.NWKKEY, t.NwkActiveKeyItems(
            Active=t.NwkKeyDesc(KeySeqNum=0, Key=key), FrameCounter=0))
        nv.put(OsalNvIds.NWK_ALTERN_KEY_INFO, t.NwkKeyDesc(KeySeqNum=0, Key=key))
        nv.put(OsalNvIds.TCLK_SEED, t.KeyData(bytes(self._rng.getrandbits(8) for _ in range(16))))
        nv.put(OsalNvIds.BDBNODEISONANETWORK, t.uint8_t(1))
        nv.put_table_entry(ExNvIds.NWK_SEC_MATERIAL_TABLE, 0, t.NwkSecMaterialDesc(
            FrameCounter=0, ExtendedPanID=ext_pan_id))

    def network(self) -> NetworkParameters | None:
        nib = self.nvram.get(OsalNvIds.NIB, t.NIB, None)
        if nib is None or not self._on_network():
            return None
        key = self.nvram.get(OsalNvIds.NWK_ACTIVE_KEY_INFO, t.NwkKeyDesc, None)
        counters = self.nvram.table(ExNvIds.NWK_SEC_MATERIAL_TABLE, t.NwkSecMaterialDesc)
        counter = next((int(e.FrameCounter) for e in counters
                        if e.ExtendedPanID == nib.extendedPANID), 0)
        return NetworkParameters(channel=int(nib.nwkLogicalChannel), pan_id=int(nib.nwkPanId),
                                 extended_pan_id=zt.EUI64(nib.extendedPANID),
                                 coordinator_ieee=self.coordinator_ieee(),
                                 network_key=bytes(key.Key) if key is not None else None,
                                 nwk_frame_counter=counter)

    def coordinator_ieee(self) -> zt.EUI64:
        return zt.EUI64(self.nvram.get(OsalNvIds.EXTADDR, t.EUI64, self.ieee))

    def _bdb_add_install_code(self, req) -> None:
        data = bytes(req.InstallCode)
        fmt = c.app_config.InstallCodeFormat
        key: bytes | None = None
        if req.InstallCodeFormat == fmt.KeyDerivedFromInstallCode and len(data) == 16:
            key = data
        elif req.InstallCodeFormat == fmt.InstallCodeAndCRC:
            try:
                key = bytes(InstallCode.from_bytes(data, with_crc=True).link_key())
            except InstallCodeError:
                key = None
        if key is None:
            self._send(req.Rsp(Status=t.Status.INVALID_PARAMETER))
            return
        added = self.core.add_install_key(zt.EUI64(req.IEEE), key)
        self._send(req.Rsp(Status=t.Status.SUCCESS if added else t.Status.MEM_ERROR))

    def _bdb_join_uses_ic(self, req) -> None:
        self.core.join_uses_install_code = bool(req.BdbJoinUsesInstallCodeKey)
        self._send(req.Rsp(Status=t.Status.SUCCESS))

    # -- permit joining and the meters' joins ---------------------------------------------
    def _permit_join(self, req) -> None:
        self._send(req.Rsp(Status=t.Status.SUCCESS))
        self.core.open_window(int(req.Duration))
        self._send(c.ZDO.MgmtPermitJoinRsp.Callback(Src=COORDINATOR_NWK,
                                                    Status=zdo_t.Status.SUCCESS))

    @property
    def outcomes(self) -> list[JoinOutcome]:
        return self.core.outcomes

    @property
    def meters(self) -> dict[zt.EUI64, EmulatedMeter]:
        return self.core.meters

    @meters.setter
    def meters(self, meters: dict[zt.EUI64, EmulatedMeter]) -> None:
        self.core.meters = meters

    @property
    def permitting(self) -> bool:
        """Whether a permit-join window is open now."""
        return self.core.permitting

    def joined(self) -> dict[zt.EUI64, int]:
        """Meters on the network now, with their short addresses."""
        return self.core.joined()

    # -- NetworkStore: the network in Z-Stack's NV items ---------------------------------
    def children(self) -> dict[zt.EUI64, int]:
        """Devices in the address manager as associated (where zigpy-znp backs them up)."""
        return {zt.EUI64(entry.extAddr): int(entry.nwkAddr)
                for entry in self.nvram.table(ExNvIds.ADDRMGR, t.AddrMgrEntry)
                if entry.type & t.AddrMgrUserType.Assoc}

    def add_child(self, ieee: zt.EUI64, nwk: int) -> bool:
        free = self._addr_index(t.EUI64.convert("FF:FF:FF:FF:FF:FF:FF:FF"))
        if free is None:
            return False
        self.nvram.put_table_entry(ExNvIds.ADDRMGR, free, t.AddrMgrEntry(
            type=t.AddrMgrUserType.Assoc | t.AddrMgrUserType.Security,
            nwkAddr=nwk, extAddr=ieee))
        return True

    def remove_child(self, ieee: zt.EUI64) -> None:
        entries = self.nvram.table(ExNvIds.ADDRMGR, t.AddrMgrEntry)
        for index, entry in enumerate(entries):
            if entry.extAddr == ieee:
                self.nvram.put_table_entry(ExNvIds.ADDRMGR, index,
                                           const.EMPTY_ADDR_MGR_ENTRY_ZSTACK3)
                table = self.nvram.get(OsalNvIds.APS_LINK_KEY_TABLE, t.APSLinkKeyTable, None)
                if table:
                    kept = [e for e in table if e.AddressManagerIndex != index]
                    self.nvram.put_padded(OsalNvIds.APS_LINK_KEY_TABLE, t.APSLinkKeyTable(kept))

    def _addr_index(self, ieee: zt.EUI64) -> int | None:
        entries = self.nvram.table(ExNvIds.ADDRMGR, t.AddrMgrEntry)
        return next((i for i, e in enumerate(entries) if e.extAddr == ieee), None)

    def key_table(self) -> dict[zt.EUI64, bytes]:
        """The APS link key table: each entry names its partner by address manager index
        and its key by key data slot."""
        addresses = self.nvram.table(ExNvIds.ADDRMGR, t.AddrMgrEntry)
        keys = self.nvram.table(ExNvIds.APS_KEY_DATA_TABLE, t.APSKeyDataTableEntry)
        table = self.nvram.get(OsalNvIds.APS_LINK_KEY_TABLE, t.APSLinkKeyTable, None) or []
        return {zt.EUI64(addresses[e.AddressManagerIndex].extAddr): bytes(keys[e.LinkKeyNvId].Key)
                for e in table if e.AddressManagerIndex < len(addresses)
                and e.LinkKeyNvId < len(keys)
                and addresses[e.AddressManagerIndex].type & t.AddrMgrUserType.Security}

    def keep_link_key(self, ieee: zt.EUI64, key: bytes) -> None:
        """Keep the install-code link key in the APS key tables, as an unhashed key that a
        backup (zigpy-znp's or zigbee-herdsman's) carries and a restore writes back."""
        index = self._addr_index(ieee)
        if index is None:
            return
        table = self.nvram.get(OsalNvIds.APS_LINK_KEY_TABLE, t.APSLinkKeyTable, None) or []
        entries = [e for e in table if e.AddressManagerIndex != index][:TABLE_CAPACITY - 1]
        used = {int(e.LinkKeyNvId) for e in entries}
        slot = next(i for i in range(TABLE_CAPACITY) if i not in used)
        entries.append(t.APSLinkKeyTableEntry(
            AddressManagerIndex=index, LinkKeyNvId=slot,
            AuthenticationState=t.AuthenticationOption.AuthenticatedCBCK))
        self.nvram.put_table_entry(ExNvIds.APS_KEY_DATA_TABLE, slot, t.APSKeyDataTableEntry(
            Key=t.KeyData(key), TxFrameCounter=0, RxFrameCounter=0))
        self.nvram.put_padded(OsalNvIds.APS_LINK_KEY_TABLE, t.APSLinkKeyTable(entries))

    def count_secured(self, frames: int) -> None:
        """The outgoing NWK frame counter, kept in NV so backups and restores carry it."""
        network = self.network()
        if network is None:
            return
        entries = self.nvram.table(ExNvIds.NWK_SEC_MATERIAL_TABLE, t.NwkSecMaterialDesc)
        for index, entry in enumerate(entries):
            if entry.ExtendedPanID == network.extended_pan_id:
                self.nvram.put_table_entry(
                    ExNvIds.NWK_SEC_MATERIAL_TABLE, index, t.NwkSecMaterialDesc(
                        FrameCounter=(entry.FrameCounter + frames) & 0xFFFFFFFF,
                        ExtendedPanID=entry.ExtendedPanID))
                return

    def move_channel(self, channel: int) -> None:
        """Mgmt_NWK_Update_req with ScanDuration 0xFE: the whole network moves."""
        nib = self.nvram.get(OsalNvIds.NIB, t.NIB, None)
        if nib is None or not 11 <= channel <= 26:
            return
        self.nvram.put(OsalNvIds.NIB, nib.replace(
            nwkLogicalChannel=channel, nwkUpdateId=(int(nib.nwkUpdateId) + 1) & 0xFF))
        LOGGER.info("network moved to channel %d", channel)

    # -- HostLink: what the core tells the host, as MT callbacks -------------------------
    def device_joined(self, meter: EmulatedMeter, nwk: int) -> None:
        capabilities = meter.mac_capabilities()
        self._send(
            c.ZDO.TCDevInd.Callback(SrcNwk=nwk, SrcIEEE=meter.ieee, ParentNwk=COORDINATOR_NWK),
            c.ZDO.EndDeviceAnnceInd.Callback(Src=nwk, NWK=nwk, IEEE=meter.ieee,
                                             Capabilities=c.zdo.MACCapabilities(capabilities)),
            c.ZDO.MsgCbIncoming.Callback(
                Src=nwk, IsBroadcast=t.Bool.true, ClusterId=DEVICE_ANNCE, SecurityUse=0,
                TSN=self._rng.getrandbits(8), MacDst=0xFFFF,
                Data=t.Bytes(zt.serialize((nwk, meter.ieee, capabilities),
                                          zdo_t.CLUSTERS[zdo_t.ZDOCmd.Device_annce][1]))))

    def device_left(self, node: HanNode) -> None:
        """A meter told to leave (CCS02's HAN side) goes; it may join again when permitted."""
        self._send(c.ZDO.LeaveInd.Callback(NWK=node.nwk, IEEE=node.ieee, Request=t.Bool.false,
                                           Remove=t.Bool.false, Rejoin=t.Bool.false))

    def zcl_received(self, node: HanNode, cluster: int, src_endpoint: int, dst_endpoint: int,
                     payload: bytes) -> None:
        """A ZCL frame from a meter arrives at the coordinator (AF_INCOMING_MSG)."""
        self._send(c.AF.IncomingMsg.Callback(
            GroupId=0x0000, ClusterId=cluster, SrcAddr=node.nwk, SrcEndpoint=src_endpoint,
            DstEndpoint=dst_endpoint, WasBroadcast=t.Bool.false, LQI=LINK_LQI,
            SecurityUse=t.Bool.false, TimeStamp=int(self.now * 1000) & 0xFFFFFFFF, TSN=0,
            Data=t.ShortBytes(payload), MacSrcAddr=node.nwk, MsgResultRadius=29))

    def _route_check(self, req) -> None:
        known = self.core.node(nwk=int(req.Dst)) is not None
        status = c.zdo.RoutingStatus.SUCCESS if known else c.zdo.RoutingStatus.FAIL
        self._send(req.Rsp(Status=status))

    # -- AF: endpoints and data ---------------------------------------------------------
    def _af_register(self, req) -> None:
        self.core.endpoints[int(req.Endpoint)] = zdo_t.SimpleDescriptor(
            endpoint=req.Endpoint, profile=req.ProfileId, device_type=req.DeviceId,
            device_version=req.DeviceVersion, input_clusters=list(req.InputClusters),
            output_clusters=list(req.OutputClusters))
        self._send(req.Rsp(Status=t.Status.SUCCESS))

    def _af_data_request(self, req) -> None:
        """AF_DATA_REQUEST (zigbee-herdsman: short address) or AF_DATA_REQUEST_EXT."""
        self._send(req.Rsp(Status=t.Status.SUCCESS))
        addr = getattr(req, "DstAddrModeAddress", None) \
            or t.AddrModeAddress(mode=t.AddrMode.NWK, address=req.DstAddr)
        data = bytes(req.Data)
        if addr.mode == t.AddrMode.Broadcast or (addr.mode == t.AddrMode.NWK
                                                 and zdo_mt.is_broadcast(addr.address)):
            if req.DstEndpoint == ZDO_ENDPOINT and req.ClusterId == MGMT_PERMIT_JOINING_REQ \
                    and len(data) >= 2:
                self.core.open_window(data[1])
            return
        if addr.mode not in (t.AddrMode.NWK, t.AddrMode.IEEE):
            return
        node = self.core.node(nwk=addr.address) if addr.mode == t.AddrMode.NWK \
            else self.core.node(ieee=addr.address)
        if req.DstEndpoint != ZDO_ENDPOINT:
            status = t.Status.SUCCESS if node else t.Status.MAC_NO_ACK
            self._send(c.AF.DataConfirm.Callback(Status=status, Endpoint=req.SrcEndpoint,
                                                 TSN=req.TSN))
        if node is None:
            return
        if req.DstEndpoint == ZDO_ENDPOINT:
            reply = self.core.zdo(node, int(req.ClusterId), data)
            if reply is not None:
                cluster, payload = reply
                self._send(c.ZDO.MsgCbIncoming.Callback(
                    Src=node.nwk, IsBroadcast=t.Bool.false, ClusterId=cluster, SecurityUse=0,
                    TSN=payload[0], MacDst=COORDINATOR_NWK, Data=t.Bytes(payload[1:])))
        else:
            self.core.zcl(node, int(req.ClusterId), int(req.DstEndpoint), int(req.SrcEndpoint),
                          data)

    def _zdo_request(self, command: int, data: bytes) -> None:
        """A ZDO request sent as an MT ZDO command (zigbee-herdsman's way)."""
        request = zdo_mt.from_mt(command, data)
        status = t.Status.SUCCESS if request is not None else t.Status.INVALID_PARAMETER
        self._send_raw(t.CommandType.SRSP, t.Subsystem.ZDO, command, bytes([status]))
        if request is None:
            return
        if request.cluster == zdo_t.ZDOCmd.NWK_addr_req:
            node = self.core.node(ieee=zt.EUI64(request.payload[:8]))
        elif zdo_mt.is_broadcast(request.destination):
            node = self.core.coordinator_node()  # the coordinator hears its own broadcast
        else:
            node = self.core.node(nwk=request.destination)
        if node is None:
            return  # nobody there: no response, as on the air
        tsn = self._rng.getrandbits(8)
        reply = self.core.zdo(node, int(request.cluster), bytes([tsn]) + request.payload)
        if reply is None:
            return
        cluster, payload = reply
        callback = zdo_mt.to_mt(node.nwk, cluster, payload[1:])
        if callback is not None:
            self._send_raw(t.CommandType.AREQ, t.Subsystem.ZDO, *callback)


def _coordinator_nib(channel: int, pan_id: int, ext_pan_id: t.EUI64,
                     channels: t.Channels) -> t.NIB:
    """The NIB of a coordinator that has formed a network (values as Z-Stack 3.30 sets)."""
    empty_key = t.NwkKeyDesc(KeySeqNum=0, Key=t.KeyData(bytes(16)))
    return t.NIB(
        SequenceNum=0, PassiveAckTimeout=5, MaxBroadcastRetries=2, MaxChildren=20,
        MaxDepth=20, MaxRouters=20, dummyNeighborTable=0, BroadcastDeliveryTime=30,
        ReportConstantCost=0, RouteDiscRetries=0, dummyRoutingTable=0, SecureAllFrames=1,
        SecurityLevel=5, SymLink=1, CapabilityFlags=0x8F, TransactionPersistenceTime=7,
        nwkProtocolVersion=2, RouteDiscoveryTime=13, RouteExpiryTime=30,
        nwkDevAddress=COORDINATOR_NWK, nwkLogicalChannel=channel,
        nwkCoordAddress=COORDINATOR_NWK, nwkCoordExtAddress=t.EUI64(bytes(8)),
        nwkPanId=pan_id, nwkState=t.NwkState.NWK_ROUTER, channelList=channels,
        beaconOrder=15, superFrameOrder=15, scanDuration=0, battLifeExt=0,
        allocatedRouterAddresses=1, allocatedEndDeviceAddresses=1, nodeDepth=0,
        extendedPANID=ext_pan_id, nwkKeyLoaded=t.Bool.true, spare1=empty_key,
        spare2=empty_key, spare3=0, spare4=0, nwkLinkStatusPeriod=15, nwkRouterAgeLimit=3,
        nwkUseMultiCast=t.Bool.false, nwkIsConcentrator=t.Bool.true,
        nwkConcentratorDiscoveryTime=120, nwkConcentratorRadius=10, nwkAllFresh=1,
        nwkManagerAddr=COORDINATOR_NWK, nwkTotalTransmissions=0, nwkUpdateId=0)
