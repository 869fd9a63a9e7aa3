"""Non-volatile memory of the virtual Z-Stack: OSAL items and Z-Stack 3.30 tables.

zigpy-znp keeps a coordinator's whole network (NIB, keys, frame counters, address
manager, link-key tables) in the stick's NVRAM and reads it back on every start, so the
emulator must hold those items the way Z-Stack does: raw bytes with fixed lengths,
tables of fixed capacity that end where an entry does not exist.
"""

from __future__ import annotations

import zigpy_znp.const as const
import zigpy_znp.types as t
from zigpy_znp.types.nvids import ExNvIds, NvSysIds, OsalNvIds

ALIGN_STRUCTS = True  # CC26x2/CC13x2 (ARM) pad structs: zigpy-znp detects this from UTIL
TABLE_CAPACITY = 16  # entries per Z-Stack 3.30 table; small keeps start-up fast
SEC_MATERIAL_CAPACITY = 4

_STACK_SETTINGS_DEFAULTS: dict[OsalNvIds, int] = {
    # One-byte settings zigpy-znp reads and rewrites on every start (values as shipped).
    OsalNvIds.STARTUP_OPTION: 0,
    OsalNvIds.LOGICAL_TYPE: 0,  # coordinator
    OsalNvIds.CONCENTRATOR_ENABLE: 1,
    OsalNvIds.CONCENTRATOR_DISCOVERY: 120,
    OsalNvIds.CONCENTRATOR_RC: 1,
    OsalNvIds.SRC_RTG_EXPIRY_TIME: 255,
    OsalNvIds.NWK_CHILD_AGE_ENABLE: 0,
    OsalNvIds.BCAST_DELIVERY_TIME: 30,
    OsalNvIds.ZDO_DIRECT_CB: 1,
}

TableKey = tuple[int, int, int]  # (sys id, item id, sub id)


def serialize(value) -> bytes:
    """Bytes of a zigpy-znp value as this (aligned) platform stores it."""
    if isinstance(value, (t.CStruct, t.BaseListType)):
        return value.serialize(align=ALIGN_STRUCTS)
    return value.serialize()


def deserialize(data: bytes, item_type):
    """A zigpy-znp value from stored bytes (trailing bytes ignored, as Z-Stack does)."""
    if issubclass(item_type, (t.CStruct, t.BaseListType)):
        return item_type.deserialize(data, align=ALIGN_STRUCTS)[0]
    return item_type.deserialize(data)[0]


class ZStackNvram:
    """Items by id, each a bytearray of fixed length; missing items have length 0."""

    def __init__(self, hardware_ieee: t.EUI64) -> None:
        self.hardware_ieee = hardware_ieee
        self.osal: dict[int, bytearray] = {}
        self.tables: dict[TableKey, bytearray] = {}
        self.factory_reset()

    def factory_reset(self) -> None:
        """NVRAM as a freshly flashed stick has it: no network, empty tables."""
        self.osal.clear()
        self.tables.clear()
        self.osal[OsalNvIds.EXTADDR] = bytearray(serialize(self.hardware_ieee))
        for nvid, value in _STACK_SETTINGS_DEFAULTS.items():
            self.osal[nvid] = bytearray([value])
        empty_link_keys = t.APSLinkKeyTable(
            [t.APSLinkKeyTableEntry(AddressManagerIndex=0xFFFF, LinkKeyNvId=0,
                                    AuthenticationState=0)] * TABLE_CAPACITY)
        self.osal[OsalNvIds.APS_LINK_KEY_TABLE] = bytearray(len(serialize(empty_link_keys)))
        self._fill(ExNvIds.ADDRMGR, const.EMPTY_ADDR_MGR_ENTRY_ZSTACK3, TABLE_CAPACITY)
        self._fill(ExNvIds.TCLK_TABLE, t.TCLKDevEntry(
            txFrmCntr=0, rxFrmCntr=0, extAddr=t.EUI64.convert("00:00:00:00:00:00:00:00"),
            keyAttributes=t.KeyAttributes.DEFAULT_KEY, keyType=t.KeyType.NONE,
            SeedShift_IcIndex=0), TABLE_CAPACITY)
        self._fill(ExNvIds.APS_KEY_DATA_TABLE, t.APSKeyDataTableEntry(
            Key=t.KeyData(bytes(16)), TxFrameCounter=0, RxFrameCounter=0), TABLE_CAPACITY)
        self._fill(ExNvIds.NWK_SEC_MATERIAL_TABLE, t.NwkSecMaterialDesc(
            FrameCounter=0, ExtendedPanID=t.EUI64(bytes(8))), SEC_MATERIAL_CAPACITY)

    def restore_hardware_address(self) -> None:
        """Z-Stack recreates a deleted EXTADDR from the chip's own address on reset."""
        self.osal.setdefault(OsalNvIds.EXTADDR, bytearray(serialize(self.hardware_ieee)))

    def _fill(self, item_id: ExNvIds, entry, count: int) -> None:
        data = serialize(entry)
        for sub_id in range(count):
            self.tables[(NvSysIds.ZSTACK, item_id, sub_id)] = bytearray(data)

    # -- typed access for the emulator ---------------------------------------------
    def get(self, nvid: int, item_type, default=None):
        data = self.osal.get(nvid)
        return default if data is None else deserialize(bytes(data), item_type)

    def put(self, nvid: int, value) -> None:
        self.osal[nvid] = bytearray(serialize(value))

    def table(self, item_id: ExNvIds, item_type) -> list:
        entries = []
        sub_id = 0
        while (key := (NvSysIds.ZSTACK, item_id, sub_id)) in self.tables:
            entries.append(deserialize(bytes(self.tables[key]), item_type))
            sub_id += 1
        return entries

    def put_table_entry(self, item_id: ExNvIds, sub_id: int, value) -> None:
        self.tables[(NvSysIds.ZSTACK, item_id, sub_id)] = bytearray(serialize(value))
