"""An EmberZNet 7.4 NCP (EFR32MG21) speaking EZSP v13 over ASH, sans-IO.

Bytes from the host go in with :meth:`EzspEmulator.receive`, bytes for the host come out
of :meth:`EzspEmulator.take_output`, and time is whatever the caller says (the same
interface as the virtual Z-Stack, so :class:`~han.znp.serve.VirtualStick` serves either).
EZSP frames are read and built with bellows' own command definitions for the protocol
version the NCP speaks. The network behaviour (joins, meters, ZDO/ZCL answers, reports)
is the shared :class:`~han.coordinator.core.Coordinator`; this module is the protocol.

An unknown frame ID, a frame before the version is negotiated or a malformed command
gets the ``invalidCommand`` response the NCP sends; nothing on the line raises out.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable

import bellows.types as bt
import zigpy.types as zt
import zigpy.zdo.types as zdo_t
from bellows.ezsp.v13 import EZSPv13

from han.coordinator.core import (
    COORDINATOR_NWK,
    GLOBAL_TC_LINK_KEY,
    LINK_LQI,
    ZDO_ENDPOINT,
    Air,
    Coordinator,
)
from han.ezsp.ash import AshNcp
from han.ezsp.tokens import ADDRESS_TABLE_SIZE, KEY_TABLE_SIZE, EmberTokens, FormedNetwork
from han.znp.meters import SMART_ENERGY_PROFILE, EmulatedMeter, JoinOutcome, MeterJoiner, key_level_join
from han.znp.responder import HanNode

LOGGER = logging.getLogger(__name__)

PROTOCOL_VERSION = EZSPv13.VERSION  # EmberZNet 7.4.x, what most sticks in the field run
STACK_TYPE = 2  # mesh
STACK_VERSION = 0x7440  # 7.4.4.0
VERSION_INFO = (0x0000, 7, 4, 4, 0, 0xAA)  # build, major, minor, patch, special, type: GA
COMMANDS = EZSPv13.COMMANDS
COMMANDS_BY_ID = {frame_id: (name, request, response)
                  for name, (frame_id, request, response) in COMMANDS.items()}
FRAME_FORMAT_VERSION = 0x01  # the extended frame format (EZSP v8+)
RESPONSE = 0x80  # frame control: NCP to host
ASYNC_CALLBACK = 0x10  # frame control: a callback sent without being asked for
RSSI = -40  # dBm of frames from the meters next to the stick
MAX_ENDPOINTS = 8
MAX_MULTICAST = 16
SILABS_OUI = bytes([0x57, 0x0B, 0x00])  # 00:0B:57, Silicon Labs (Ember)
ZDO_PROFILE = 0x0000
MGMT_PERMIT_JOINING_REQ = 0x0036
DEVICE_ANNCE = 0x0013
WILDCARD_EUI64 = zt.EUI64.convert("FF:FF:FF:FF:FF:FF:FF:FF")
MFG_TOKENS = {
    bt.EzspMfgTokenId.MFG_STRING: b"hansim".ljust(16, b"\xff"),
    bt.EzspMfgTokenId.MFG_BOARD_NAME: b"virtual MG21".ljust(16, b"\xff"),
    bt.EzspMfgTokenId.MFG_CUSTOM_EUI_64: b"\xff" * 8,  # none burned: the chip's own EUI-64
}
# Configuration the NCP starts with (EmberZNet 7.4 defaults for the values hosts read).
DEFAULT_CONFIG = {
    bt.EzspConfigId.CONFIG_SECURITY_LEVEL: 5,
    bt.EzspConfigId.CONFIG_KEY_TABLE_SIZE: KEY_TABLE_SIZE,
    bt.EzspConfigId.CONFIG_ADDRESS_TABLE_SIZE: ADDRESS_TABLE_SIZE,
    bt.EzspConfigId.CONFIG_MAX_END_DEVICE_CHILDREN: 32,
    bt.EzspConfigId.CONFIG_STACK_PROFILE: 2,
    bt.EzspConfigId.CONFIG_PACKET_BUFFER_COUNT: 255,
    bt.EzspConfigId.CONFIG_MULTICAST_TABLE_SIZE: MAX_MULTICAST,
    bt.EzspConfigId.CONFIG_SOURCE_ROUTE_TABLE_SIZE: 200,
    bt.EzspConfigId.CONFIG_TRUST_CENTER_ADDRESS_CACHE_SIZE: 2,
}
Handler = Callable[[dict], tuple]


class EzspEmulator:
    """The NCP: its tokens, its RAM state, and the coordinator core behind it."""

    def __init__(self, *, ieee: zt.EUI64 | None = None, meters: tuple[EmulatedMeter, ...] = (),
                 joiner: MeterJoiner = key_level_join, seed: int = 0, join_delay: float = 0.5,
                 on_outcome: Callable[[JoinOutcome], None] | None = None,
                 air: Air | None = None) -> None:
        self._rng = random.Random(seed)
        self.ieee = ieee or zt.EUI64(bytes([self._rng.getrandbits(8) for _ in range(5)])
                                     + SILABS_OUI)
        self.tokens = EmberTokens(self.ieee)
        self.core = Coordinator(self.tokens, self, meters=meters, joiner=joiner, rng=self._rng,
                                join_delay=join_delay, on_outcome=on_outcome, air=air)
        self.ash = AshNcp(self._ezsp_frame, self._reboot)
        self._after: list[Callable[[], None]] = []
        self._handlers: dict[str, Handler] = {
            name[len("_cmd_"):]: getattr(self, name)
            for name in dir(self) if name.startswith("_cmd_")}
        self._boot()

    def _boot(self) -> None:
        """Power on or reset: RAM state goes, the tokens stay."""
        self.core.reset()
        self._version = 0  # the protocol version negotiated since the last reset
        self._seq = 0  # the host's last sequence number (callbacks carry it)
        self._eui64 = self.tokens.coordinator_ieee()  # a restored EUI-64 applies from boot
        self._config = dict(DEFAULT_CONFIG)
        self._values: dict[int, bytes] = {}
        self._policies: dict[int, int] = {}
        self._security: bt.EmberInitialSecurityState | None = None
        self._multicast: dict[int, bt.EmberMulticastTableEntry] = {}
        self._extended_timeout: set[zt.EUI64] = set()
        self._endpoint_flags: dict[int, int] = {}
        self._aps_seq = 0
        # The profile a host last used with a meter: its replies and reports carry it
        # (zigpy reads ZCL only under the Home Automation profile, as ZHA sends it).
        self._profiles: dict[zt.EUI64, int] = {}

    def _reboot(self) -> None:
        LOGGER.debug("NCP reset by the host")
        self._boot()

    # -- the serial line ------------------------------------------------------------
    @property
    def now(self) -> float:
        return self.core.now

    def receive(self, data: bytes, now: float | None = None) -> None:
        if now is not None:
            self.advance(now)
        self.ash.receive(data, self.core.now)

    def new_line(self) -> None:
        self.ash.new_line()

    def take_output(self) -> bytes:
        return self.ash.take_output()

    def advance(self, now: float) -> None:
        self.core.advance(now)
        self.ash.advance(self.core.now)

    def next_deadline(self) -> float | None:
        deadlines = [d for d in (self.core.next_deadline(), self.ash.next_deadline())
                     if d is not None]
        return min(deadlines, default=None)

    # -- what the host reads about the network ----------------------------------------
    @property
    def outcomes(self) -> list[JoinOutcome]:
        return self.core.outcomes

    @property
    def permitting(self) -> bool:
        return self.core.permitting

    def joined(self) -> dict[zt.EUI64, int]:
        return self.core.joined()

    @property
    def network_up(self) -> bool:
        return self.core.started

    # -- EZSP frames -----------------------------------------------------------------
    def _ezsp_frame(self, data: bytes) -> None:
        if len(data) < 3:
            return  # not even a sequence number and frame ID: nothing to answer
        seq, control = data[0], data[1]
        if len(data) >= 5 and data[2] & 0x03 == FRAME_FORMAT_VERSION:
            frame_id, params, extended = int.from_bytes(data[3:5], "little"), data[5:], True
        else:
            frame_id, params, extended = data[2], data[3:], False
        self._seq = seq
        if control & RESPONSE:
            self._invalid(seq, bt.EzspStatus.ERROR_WRONG_DIRECTION, extended)
            return
        if frame_id != COMMANDS["version"][0] and self._version < 8:
            self._invalid(seq, bt.EzspStatus.ERROR_VERSION_NOT_SET, extended)
            return
        command = COMMANDS_BY_ID.get(frame_id)
        handler = self._handlers.get(command[0]) if command else None
        if command is None or handler is None:
            LOGGER.debug("not implemented: EZSP frame 0x%04X", frame_id)
            self._invalid(seq, bt.EzspStatus.ERROR_INVALID_FRAME_ID, extended)
            return
        name, request_schema, response_schema = command
        try:
            request, _ = bt.deserialize_dict(params, request_schema)
        except (ValueError, KeyError, IndexError):
            LOGGER.debug("malformed %s: %s", name, params.hex())
            self._invalid(seq, bt.EzspStatus.ERROR_INVALID_VALUE, extended)
            return
        LOGGER.debug("command %s %s", name, request)
        try:
            answer = handler(request)
        except Exception:  # a stick answers every command, even one it cannot serve
            LOGGER.exception("cannot serve %s", name)
            self._after.clear()
            self._invalid(seq, bt.EzspStatus.ERROR_INVALID_CALL, extended)
            return
        self._respond(seq, frame_id, _serialize(response_schema, answer), extended)
        after, self._after = self._after, []
        for follow_up in after:
            follow_up()

    def _later(self, action: Callable[[], None]) -> None:
        """Run ``action`` once the current command's response is out (its callbacks)."""
        self._after.append(action)

    def _header(self, seq: int, control: int, frame_id: int, extended: bool) -> bytes:
        if not extended:
            return bytes([seq, control, frame_id])
        return bytes([seq, control, FRAME_FORMAT_VERSION]) + frame_id.to_bytes(2, "little")

    def _respond(self, seq: int, frame_id: int, payload: bytes, extended: bool) -> None:
        self.ash.send(self._header(seq, RESPONSE, frame_id, extended) + payload)

    def _invalid(self, seq: int, status: bt.EzspStatus, extended: bool) -> None:
        self._respond(seq, COMMANDS["invalidCommand"][0], bt.EzspStatus(status).serialize(),
                      extended)

    def _callback(self, name: str, *fields) -> None:
        frame_id, _, schema = COMMANDS[name]
        self.ash.send(self._header(self._seq, RESPONSE | ASYNC_CALLBACK, frame_id,
                                   self._version >= 8) + _serialize(schema, fields))

    # -- configuration ---------------------------------------------------------------------
    def _cmd_version(self, req: dict) -> tuple:
        self._version = PROTOCOL_VERSION if req["desiredProtocolVersion"] == PROTOCOL_VERSION \
            else 0
        return PROTOCOL_VERSION, STACK_TYPE, STACK_VERSION

    def _cmd_nop(self, req: dict) -> tuple:
        return ()

    def _cmd_getConfigurationValue(self, req: dict) -> tuple:
        value = self._config.get(req["configId"])
        if value is None:
            return bt.EzspStatus.ERROR_INVALID_ID, 0
        return bt.EzspStatus.SUCCESS, value

    def _cmd_setConfigurationValue(self, req: dict) -> tuple:
        if self.network_up:
            return (bt.EzspStatus.ERROR_INVALID_CALL,)  # only before the stack starts
        self._config[req["configId"]] = int(req["value"])
        return (bt.EzspStatus.SUCCESS,)

    def _cmd_getValue(self, req: dict) -> tuple:
        value_id = req["valueId"]
        if value_id == bt.EzspValueId.VALUE_VERSION_INFO:
            build, *digits = VERSION_INFO
            return bt.EzspStatus.SUCCESS, build.to_bytes(2, "little") + bytes(digits)
        if value_id == bt.EzspValueId.VALUE_NWK_FRAME_COUNTER:
            return bt.EzspStatus.SUCCESS, self.tokens.nwk_frame_counter.to_bytes(4, "little")
        if value_id == bt.EzspValueId.VALUE_APS_FRAME_COUNTER:
            return bt.EzspStatus.SUCCESS, self.tokens.aps_frame_counter.to_bytes(4, "little")
        value = self._values.get(value_id)
        if value is None:
            return bt.EzspStatus.ERROR_INVALID_ID, b""
        return bt.EzspStatus.SUCCESS, value

    def _cmd_getExtendedValue(self, req: dict) -> tuple:
        if req["valueId"] != bt.EzspExtendedValueId.EXTENDED_VALUE_ENDPOINT_FLAGS:
            return bt.EzspStatus.ERROR_INVALID_ID, b""
        registered = req["characteristics"] in self.core.endpoints
        flags = self._endpoint_flags.get(int(req["characteristics"]), 0x0001)  # enabled
        return (bt.EzspStatus.SUCCESS if registered else bt.EzspStatus.ERROR_INVALID_VALUE,
                flags.to_bytes(2, "little") if registered else bytes(2))

    def _cmd_setValue(self, req: dict) -> tuple:
        value_id, value = req["valueId"], bytes(req["value"])
        counters = {bt.EzspValueId.VALUE_NWK_FRAME_COUNTER: "nwk_frame_counter",
                    bt.EzspValueId.VALUE_APS_FRAME_COUNTER: "aps_frame_counter"}
        if value_id == bt.EzspValueId.VALUE_ENDPOINT_FLAGS and len(value) == 3:
            if value[0] not in self.core.endpoints:
                return (bt.EzspStatus.ERROR_INVALID_VALUE,)
            self._endpoint_flags[value[0]] = int.from_bytes(value[1:], "little")
            return (bt.EzspStatus.SUCCESS,)
        if value_id in counters:
            if self.network_up or len(value) != 4:
                return (bt.EzspStatus.ERROR_INVALID_CALL,)  # only before forming
            setattr(self.tokens, counters[value_id], int.from_bytes(value, "little"))
            return (bt.EzspStatus.SUCCESS,)
        self._values[value_id] = value
        return (bt.EzspStatus.SUCCESS,)

    def _cmd_setPolicy(self, req: dict) -> tuple:
        self._policies[req["policyId"]] = int(req["decisionId"])
        if req["policyId"] == bt.EzspPolicyId.TRUST_CENTER_POLICY:  # a bitmask since v8
            self.core.join_uses_install_code = bool(
                int(req["decisionId"]) & bt.EzspDecisionBitmask.JOINS_USE_INSTALL_CODE_KEY)
        return (bt.EzspStatus.SUCCESS,)

    def _cmd_getPolicy(self, req: dict) -> tuple:
        decision = self._policies.get(req["policyId"])
        if decision is None:
            return bt.EzspStatus.ERROR_INVALID_ID, 0
        return bt.EzspStatus.SUCCESS, decision

    def _cmd_addEndpoint(self, req: dict) -> tuple:
        endpoints = self.core.endpoints
        if self.network_up:
            return (bt.EzspStatus.ERROR_INVALID_CALL,)
        if req["endpoint"] not in endpoints and len(endpoints) >= MAX_ENDPOINTS:
            return (bt.EzspStatus.ERROR_OUT_OF_MEMORY,)
        # bellows' lists run to the end of the frame; the counts split them
        clusters = [*req["inputClusterList"], *req["outputClusterList"]]
        inputs, outputs = int(req["inputClusterCount"]), int(req["outputClusterCount"])
        if len(clusters) != inputs + outputs:
            return (bt.EzspStatus.ERROR_INVALID_VALUE,)
        endpoints[int(req["endpoint"])] = zdo_t.SimpleDescriptor(
            endpoint=req["endpoint"], profile=req["profileId"], device_type=req["deviceId"],
            device_version=req["deviceVersion"], input_clusters=clusters[:inputs],
            output_clusters=clusters[inputs:])
        return (bt.EzspStatus.SUCCESS,)

    def _cmd_getMfgToken(self, req: dict) -> tuple:
        return (MFG_TOKENS.get(req["tokenId"], b"\xff\xff"),)

    def _cmd_getTokenData(self, req: dict) -> tuple:
        value = self.tokens.read_token(int(req["token"])) if req["index"] == 0 else None
        if value is None:
            return (bt.EmberStatus.NOT_FOUND,)
        return bt.EmberStatus.SUCCESS, bt.LVBytes32(value)

    def _cmd_setTokenData(self, req: dict) -> tuple:
        written = req["index"] == 0 and self.tokens.write_token(int(req["token"]),
                                                                bytes(req["token_data"]))
        return (bt.EmberStatus.SUCCESS if written else bt.EmberStatus.BAD_ARGUMENT,)

    def _cmd_customFrame(self, req: dict) -> tuple:
        return bt.EmberStatus.INVALID_CALL, b""  # stock firmware: no custom frames

    def _cmd_readCounters(self, req: dict) -> tuple:
        return ([0] * len(bt.EmberCounterType),)

    _cmd_readAndClearCounters = _cmd_readCounters

    def _cmd_setRadioPower(self, req: dict) -> tuple:
        if not -20 <= req["power"] <= 20:
            return (bt.EmberStatus.BAD_ARGUMENT,)
        if self.tokens.formed is not None:
            self.tokens.formed.tx_power = int(req["power"])
        return (bt.EmberStatus.SUCCESS,)

    def _cmd_setManufacturerCode(self, req: dict) -> tuple:
        return ()

    def _cmd_setConcentrator(self, req: dict) -> tuple:
        return (bt.EmberStatus.SUCCESS,)

    def _cmd_setSourceRouteDiscoveryMode(self, req: dict) -> tuple:
        return (0,)

    def _cmd_setSourceRoute(self, req: dict) -> tuple:
        return (bt.EmberStatus.SUCCESS,)

    def _cmd_setExtendedTimeout(self, req: dict) -> tuple:
        if req["extendedTimeout"]:  # kept in the address table: as many as it has rows
            if len(self._extended_timeout) < ADDRESS_TABLE_SIZE:
                self._extended_timeout.add(req["remoteEui64"])
        else:
            self._extended_timeout.discard(req["remoteEui64"])
        return ()

    def _cmd_getExtendedTimeout(self, req: dict) -> tuple:
        return (bt.Bool(req["remoteEui64"] in self._extended_timeout),)

    def _cmd_setMulticastTableEntry(self, req: dict) -> tuple:
        if req["index"] >= MAX_MULTICAST:
            return (bt.EmberStatus.INDEX_OUT_OF_RANGE,)
        self._multicast[int(req["index"])] = req["value"]
        return (bt.EmberStatus.SUCCESS,)

    def _cmd_getMulticastTableEntry(self, req: dict) -> tuple:
        entry = self._multicast.get(int(req["index"]))
        if req["index"] >= MAX_MULTICAST:
            return bt.EmberStatus.INDEX_OUT_OF_RANGE, bt.EmberMulticastTableEntry(
                multicastId=0, endpoint=0, networkIndex=0)
        return bt.EmberStatus.SUCCESS, entry or bt.EmberMulticastTableEntry(
            multicastId=0, endpoint=0, networkIndex=0)

    def _cmd_gpSinkTableClearAll(self, req: dict) -> tuple:
        return ()

    # -- the network -------------------------------------------------------------------
    def _cmd_networkState(self, req: dict) -> tuple:
        return (bt.EmberNetworkStatus.JOINED_NETWORK if self.network_up
                else bt.EmberNetworkStatus.NO_NETWORK,)

    def _cmd_networkInit(self, req: dict) -> tuple:
        if self.network_up:
            return (bt.EmberStatus.INVALID_CALL,)
        if self.tokens.formed is None:
            return (bt.EmberStatus.NOT_JOINED,)
        self._network_up()
        return (bt.EmberStatus.SUCCESS,)

    def _network_up(self) -> None:
        self.core.started = True
        self._later(lambda: self._callback("stackStatusHandler", bt.EmberStatus.NETWORK_UP))

    def _cmd_setInitialSecurityState(self, req: dict) -> tuple:
        if self.network_up:
            return (bt.EmberStatus.INVALID_CALL,)
        self._security = req["state"]
        return (bt.EmberStatus.SUCCESS,)

    def _cmd_formNetwork(self, req: dict) -> tuple:
        if self.network_up:
            return (bt.EmberStatus.INVALID_CALL,)
        params: bt.EmberNetworkParameters = req["parameters"]
        if not 11 <= params.radioChannel <= 26 or params.panId > 0xFFFE:
            return (bt.EmberStatus.BAD_ARGUMENT,)
        power = int(params.radioTxPower)
        if not -20 <= (power - 256 if power >= 128 else power) <= 20:
            return (bt.EmberStatus.PHY_INVALID_POWER,)
        security = self._security
        tokens = self.tokens
        if security is not None and bt.EmberInitialSecurityBitmask.HAVE_NETWORK_KEY \
                in security.bitmask:
            tokens.network_key = bytes(security.networkKey)
            tokens.network_key_seq = int(security.networkKeySequenceNumber)
        else:
            tokens.network_key = bytes(self._rng.getrandbits(8) for _ in range(16))
            tokens.network_key_seq = 0
        if security is not None:
            tokens.tc_link_key = bytes(security.preconfiguredKey)
            tokens.hashed_tc_link_key = bt.EmberInitialSecurityBitmask \
                .TRUST_CENTER_USES_HASHED_LINK_KEY in security.bitmask
        tokens.formed = FormedNetwork(
            pan_id=int(params.panId), extended_pan_id=zt.EUI64(params.extendedPanId),
            channel=int(params.radioChannel), channels=int(params.channels),
            tx_power=power - 256 if power >= 128 else power, nwk_manager_id=COORDINATOR_NWK)
        self._network_up()
        return (bt.EmberStatus.SUCCESS,)

    def _cmd_leaveNetwork(self, req: dict) -> tuple:
        if not self.network_up:
            return (bt.EmberStatus.INVALID_CALL,)
        self.core.close_window(report=True)
        self.core.started = False
        self.tokens.formed = None
        self.tokens.addresses.clear()
        self._later(lambda: self._callback("stackStatusHandler", bt.EmberStatus.NETWORK_DOWN))
        return (bt.EmberStatus.SUCCESS,)

    def _cmd_tokenFactoryReset(self, req: dict) -> tuple:
        self.tokens.factory_reset(keep_frame_counter=bool(req["excludeOutgoingFC"]))
        return ()

    def _cmd_getNetworkParameters(self, req: dict) -> tuple:
        network = self.tokens.formed
        if not self.network_up or network is None:
            return bt.EmberStatus.NOT_JOINED, bt.EmberNodeType.UNKNOWN_DEVICE, \
                bt.EmberNetworkParameters(
                    extendedPanId=zt.ExtendedPanId(bytes(8)), panId=0xFFFF, radioTxPower=0,
                    radioChannel=0, joinMethod=bt.EmberJoinMethod.USE_MAC_ASSOCIATION,
                    nwkManagerId=0, nwkUpdateId=0, channels=bt.Channels(0))
        return bt.EmberStatus.SUCCESS, bt.EmberNodeType.COORDINATOR, bt.EmberNetworkParameters(
            extendedPanId=zt.ExtendedPanId(network.extended_pan_id), panId=network.pan_id,
            radioTxPower=network.tx_power & 0xFF, radioChannel=network.channel,
            joinMethod=bt.EmberJoinMethod.USE_MAC_ASSOCIATION,
            nwkManagerId=network.nwk_manager_id, nwkUpdateId=network.nwk_update_id,
            channels=bt.Channels(network.channels))

    def _cmd_getNodeId(self, req: dict) -> tuple:
        return (COORDINATOR_NWK if self.network_up else 0xFFFE,)

    def _cmd_getEui64(self, req: dict) -> tuple:
        return (self._eui64,)

    def _cmd_getCurrentSecurityState(self, req: dict) -> tuple:
        bits = bt.EmberCurrentSecurityBitmask
        bitmask = bits.STANDARD_SECURITY_MODE | bits.HAVE_TRUST_CENTER_LINK_KEY \
            | bits.GLOBAL_LINK_KEY
        if self.tokens.hashed_tc_link_key:
            bitmask |= bits.TRUST_CENTER_USES_HASHED_LINK_KEY
        status = bt.EmberStatus.SUCCESS if self.network_up else bt.EmberStatus.NOT_JOINED
        return status, bt.EmberCurrentSecurityState(bitmask=bitmask,
                                                     trustCenterLongAddress=self._eui64)

    def _cmd_getNetworkKeyInfo(self, req: dict) -> tuple:
        key_set = self.tokens.formed is not None and self.tokens.network_key is not None
        return bt.sl_Status.OK, bt.SecurityManagerNetworkKeyInfo(
            network_key_set=key_set, alternate_network_key_set=False,
            network_key_sequence_number=self.tokens.network_key_seq,
            alt_network_key_sequence_number=0,
            network_key_frame_counter=self.tokens.nwk_frame_counter)

    def _cmd_exportKey(self, req: dict) -> tuple:
        context: bt.SecurityManagerContextV13 = req["context"]
        kind = bt.SecurityManagerKeyType
        key: bytes | None = None
        if context.core_key_type == kind.NETWORK:
            key = self.tokens.network_key
        elif context.core_key_type == kind.TC_LINK:
            key = self.tokens.tc_link_key
        elif context.core_key_type == kind.APP_LINK:
            key = self._link_key(int(context.key_index))
        if key is None:
            return zt.KeyData(bytes(16)), bt.sl_Status.NOT_FOUND
        return zt.KeyData(key), bt.sl_Status.OK

    def _link_key(self, index: int) -> bytes | None:
        entry = self.tokens.link_keys.get(index)
        return entry[1] if entry else None

    def _cmd_exportLinkKeyByIndex(self, req: dict) -> tuple:
        entry = self.tokens.link_keys.get(int(req["index"]))
        metadata = bt.SecurityManagerAPSKeyMetadata(
            bitmask=bt.EmberKeyStructBitmask(0), outgoing_frame_counter=0,
            incoming_frame_counter=0, ttl_in_seconds=0)
        if entry is None:
            return zt.EUI64(bytes(8)), zt.KeyData(bytes(16)), metadata, bt.sl_Status.NOT_FOUND
        metadata.bitmask = bt.EmberKeyStructBitmask.KEY_HAS_PARTNER_EUI64
        return entry[0], zt.KeyData(entry[1]), metadata, bt.sl_Status.OK

    def _cmd_importLinkKey(self, req: dict) -> tuple:
        if req["index"] >= KEY_TABLE_SIZE:
            return (bt.sl_Status.INVALID_INDEX,)
        self.tokens.link_keys[int(req["index"])] = (req["address"], bytes(req["key"]))
        return (bt.sl_Status.OK,)

    def _cmd_clearKeyTable(self, req: dict) -> tuple:
        self.tokens.link_keys.clear()
        return (bt.EmberStatus.SUCCESS,)

    def _cmd_findKeyTableEntry(self, req: dict) -> tuple:
        index = self.tokens.key_index(req["address"]) if req["linkKey"] else None
        return (0xFF if index is None else index,)

    def _cmd_eraseKeyTableEntry(self, req: dict) -> tuple:
        if req["index"] >= KEY_TABLE_SIZE:
            return (bt.EmberStatus.INDEX_OUT_OF_RANGE,)
        self.tokens.link_keys.pop(int(req["index"]), None)
        return (bt.EmberStatus.SUCCESS,)

    def _cmd_importTransientKey(self, req: dict) -> tuple:
        if req["eui64"] == WILDCARD_EUI64:  # a key for any joiner: the well-known one
            self.core.join_uses_install_code = bytes(req["plaintext_key"]) != GLOBAL_TC_LINK_KEY
            return (bt.sl_Status.OK,)
        added = self.core.add_install_key(req["eui64"], bytes(req["plaintext_key"]))
        return (bt.sl_Status.OK if added else bt.sl_Status.FULL,)

    def _cmd_clearTransientLinkKeys(self, req: dict) -> tuple:
        self.core.install_keys.clear()
        return ()

    def _cmd_permitJoining(self, req: dict) -> tuple:
        if not self.network_up:
            return (bt.EmberStatus.INVALID_CALL,)
        self.core.open_window(int(req["duration"]))
        return (bt.EmberStatus.SUCCESS,)

    # -- tables ---------------------------------------------------------------------------
    def _address(self, index: int) -> tuple[zt.EUI64, int] | None:
        entries = list(self.tokens.addresses.items())
        return entries[index] if index < len(entries) else None

    def _cmd_getAddressTableRemoteEui64(self, req: dict) -> tuple:
        entry = self._address(int(req["addressTableIndex"]))
        return (entry[0] if entry else zt.EUI64(bytes(8)),)

    def _cmd_getAddressTableRemoteNodeId(self, req: dict) -> tuple:
        entry = self._address(int(req["addressTableIndex"]))
        return (entry[1] if entry else bt.EmberDistinguishedNodeId.TABLE_ENTRY_UNUSED,)

    def _cmd_getChildData(self, req: dict) -> tuple:
        # The meters are routers: neighbours, not children. No end devices here.
        return bt.EmberStatus.NOT_JOINED, bt.EmberChildDataV10(
            eui64=zt.EUI64(bytes(8)), type=bt.EmberNodeType.UNKNOWN_DEVICE, id=0xFFFF,
            phy=0, power=0, timeout=0, timeout_remaining=0)

    def _cmd_replaceAddressTableEntry(self, req: dict) -> tuple:
        """The host names a device's short address (bellows does so for a device the
        stack does not know, e.g. a meter after a restore): a meter beside the stick is
        put back where the host says it is."""
        index = int(req["addressTableIndex"])
        if index >= ADDRESS_TABLE_SIZE:
            return (bt.EmberStatus.ADDRESS_TABLE_INDEX_OUT_OF_RANGE, zt.EUI64(bytes(8)),
                    bt.EmberDistinguishedNodeId.TABLE_ENTRY_UNUSED, bt.Bool.false)
        old = self._address(index)
        self.core.restore_child(req["newEui64"], int(req["newId"]))
        if old is None:
            return (bt.EmberStatus.SUCCESS, zt.EUI64(bytes(8)),
                    bt.EmberDistinguishedNodeId.TABLE_ENTRY_UNUSED, bt.Bool.false)
        return (bt.EmberStatus.SUCCESS, old[0], old[1],
                bt.Bool(old[0] in self._extended_timeout))

    def _cmd_setChildData(self, req: dict) -> tuple:
        child = req["child_data"]
        restored = self.core.restore_child(child.eui64, int(child.id))
        return (bt.EmberStatus.SUCCESS if restored else bt.EmberStatus.TABLE_FULL,)

    def _cmd_lookupNodeIdByEui64(self, req: dict) -> tuple:
        node = self.core.node(ieee=req["eui64"])
        return (node.nwk if node else 0xFFFF,)

    def _cmd_lookupEui64ByNodeId(self, req: dict) -> tuple:
        node = self.core.node(nwk=int(req["nodeId"]))
        if node is None:
            return bt.EmberStatus.ERR_FATAL, zt.EUI64(bytes(8))
        return bt.EmberStatus.SUCCESS, node.ieee

    def _cmd_removeDevice(self, req: dict) -> tuple:
        self.core.forget(req["targetLong"])
        return (bt.EmberStatus.SUCCESS,)

    def _cmd_startScan(self, req: dict) -> tuple:
        mask = int(req["channelMask"])
        channels = [channel for channel in range(11, 27) if mask & (1 << channel)]
        if req["scanType"] != bt.EzspNetworkScanType.ENERGY_SCAN or not channels:
            return (bt.EmberStatus.BAD_ARGUMENT,)
        energies = self.core.energy_scan(channels)

        def results() -> None:
            for channel, energy in zip(channels, energies):
                self._callback("energyScanResultHandler", channel, -100 + energy * 70 // 255)
            self._callback("scanCompleteHandler", 0, bt.EmberStatus.SUCCESS)

        self._later(results)
        return (bt.EmberStatus.SUCCESS,)

    # -- messages ---------------------------------------------------------------------
    def _next_aps_seq(self) -> int:
        self._aps_seq = (self._aps_seq + 1) & 0xFF
        return self._aps_seq

    def _cmd_sendUnicast(self, req: dict) -> tuple:
        if not self.network_up:
            return bt.EmberStatus.NETWORK_DOWN, 0
        if req["type"] != bt.EmberOutgoingMessageType.OUTGOING_DIRECT:
            return bt.EmberStatus.BAD_ARGUMENT, 0
        aps: bt.EmberApsFrame = req["apsFrame"]
        aps.sequence = self._next_aps_seq()
        destination = int(req["indexOrDestination"])
        data = bytes(req["messageContents"])
        node = self.core.node(nwk=destination)

        def deliver() -> None:
            status = bt.EmberStatus.SUCCESS if node else bt.EmberStatus.DELIVERY_FAILED
            self._callback("messageSentHandler", req["type"], destination, aps,
                           req["messageTag"], status, data)
            if node is None:
                return
            if aps.destinationEndpoint == ZDO_ENDPOINT:
                self._zdo_reply(node, int(aps.clusterId), data)
            else:
                self._profiles[node.ieee] = int(aps.profileId)
                self.core.zcl(node, int(aps.clusterId), int(aps.destinationEndpoint),
                              int(aps.sourceEndpoint), data)

        self._later(deliver)
        return bt.EmberStatus.SUCCESS, aps.sequence

    def _cmd_sendBroadcast(self, req: dict) -> tuple:
        if not self.network_up:
            return bt.EmberStatus.NETWORK_DOWN, 0
        aps: bt.EmberApsFrame = req["apsFrame"]
        aps.sequence = self._next_aps_seq()
        destination, data = int(req["destination"]), bytes(req["messageContents"])

        def deliver() -> None:
            self._callback("messageSentHandler", bt.EmberOutgoingMessageType.OUTGOING_BROADCAST,
                           destination, aps, req["messageTag"], bt.EmberStatus.SUCCESS, data)
            if aps.destinationEndpoint != ZDO_ENDPOINT or aps.profileId != ZDO_PROFILE:
                return
            if aps.clusterId == MGMT_PERMIT_JOINING_REQ and len(data) >= 2:
                self.core.open_window(data[1])
            else:  # the coordinator hears its own broadcast (channel change, scans)
                self._zdo_reply(self.core.coordinator_node(), int(aps.clusterId), data)

        self._later(deliver)
        return bt.EmberStatus.SUCCESS, aps.sequence

    def _cmd_sendMulticast(self, req: dict) -> tuple:
        if not self.network_up:
            return bt.EmberStatus.NETWORK_DOWN, 0
        aps: bt.EmberApsFrame = req["apsFrame"]
        aps.sequence = self._next_aps_seq()
        self._later(lambda: self._callback(
            "messageSentHandler", bt.EmberOutgoingMessageType.OUTGOING_MULTICAST,
            aps.groupId, aps, req["messageTag"], bt.EmberStatus.SUCCESS,
            bytes(req["messageContents"])))
        return bt.EmberStatus.SUCCESS, aps.sequence

    def _zdo_reply(self, node: HanNode, cluster: int, data: bytes) -> None:
        reply = self.core.zdo(node, cluster, data)
        if reply is not None:
            response, payload = reply
            self._incoming(node.nwk, ZDO_PROFILE, response, ZDO_ENDPOINT, ZDO_ENDPOINT, payload)

    def _incoming(self, sender: int, profile: int, cluster: int, src_endpoint: int,
                  dst_endpoint: int, payload: bytes,
                  kind: bt.EmberIncomingMessageType = bt.EmberIncomingMessageType.INCOMING_UNICAST
                  ) -> None:
        aps = bt.EmberApsFrame(profileId=profile, clusterId=cluster, sourceEndpoint=src_endpoint,
                               destinationEndpoint=dst_endpoint,
                               options=bt.EmberApsOption.APS_OPTION_NONE, groupId=0,
                               sequence=self._rng.getrandbits(8))
        self._callback("incomingMessageHandler", kind, aps, LINK_LQI, RSSI, sender, 0xFF, 0xFF,
                       payload)

    # -- HostLink: what the core tells the host ------------------------------------------
    def device_joined(self, meter: EmulatedMeter, nwk: int) -> None:
        self._callback("trustCenterJoinHandler", nwk, meter.ieee,
                       bt.EmberDeviceUpdate.STANDARD_SECURITY_UNSECURED_JOIN,
                       bt.EmberJoinDecision.USE_PRECONFIGURED_KEY, COORDINATOR_NWK)
        announce = bytes([self._rng.getrandbits(8)]) + zt.serialize(
            (nwk, meter.ieee, meter.mac_capabilities()),
            zdo_t.CLUSTERS[zdo_t.ZDOCmd.Device_annce][1])
        self._incoming(nwk, ZDO_PROFILE, DEVICE_ANNCE, ZDO_ENDPOINT, ZDO_ENDPOINT, announce,
                       bt.EmberIncomingMessageType.INCOMING_BROADCAST)

    def device_left(self, node: HanNode) -> None:
        self._callback("trustCenterJoinHandler", node.nwk, node.ieee,
                       bt.EmberDeviceUpdate.DEVICE_LEFT, bt.EmberJoinDecision.NO_ACTION,
                       COORDINATOR_NWK)

    def zcl_received(self, node: HanNode, cluster: int, src_endpoint: int, dst_endpoint: int,
                     payload: bytes) -> None:
        profile = self._profiles.get(node.ieee, SMART_ENERGY_PROFILE)
        self._incoming(node.nwk, profile, cluster, src_endpoint, dst_endpoint, payload)


def _serialize(schema, fields) -> bytes:
    """A response's fields, in order, with bellows' definition of the response."""
    if isinstance(schema, dict):
        return b"".join(kind(value).serialize() if not isinstance(value, kind) else
                        value.serialize() for kind, value in zip(schema.values(), fields))
    return schema(*fields).serialize()
