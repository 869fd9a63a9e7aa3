"""Non-volatile memory of the virtual Z-Stack (OSAL items, Z-Stack 3.30 tables) and the
MT SYS commands that read and write it.

zigpy-znp keeps a coordinator's whole network (NIB, keys, frame counters, address
manager, link-key tables) in the stick's NVRAM and reads it back on every start, so the
emulator must hold those items the way Z-Stack does: raw bytes with fixed lengths,
tables of fixed capacity that end where an entry does not exist.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import zigpy_znp.commands as c
import zigpy_znp.const as const
import zigpy_znp.types as t
from zigpy_znp.types.nvids import ExNvIds, NvSysIds, OsalNvIds

ALIGN_STRUCTS = True  # CC26x2/CC13x2 (ARM) pad structs: zigpy-znp detects this from UTIL
TABLE_CAPACITY = 16  # entries per Z-Stack 3.30 table (the CHF live log holds 16 too)
SEC_MATERIAL_CAPACITY = 4
NV_CHUNK = 244  # most bytes one NV read or write frame carries
MAX_ITEM = 0x1000  # larger items do not fit a CC2652's NV pages
# A CC2652's NV area: 2 pages of 8 KiB for the OSAL/extended items a host may create.
MAX_ITEMS = 512
MAX_BYTES = 0x4000

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


@functools.lru_cache(maxsize=4096)
def deserialize(data: bytes, item_type):
    """A zigpy-znp value from stored bytes (trailing bytes ignored, as Z-Stack does).

    Cached: the emulator reads the same tables on every request, and zigpy-znp's struct
    parsing is slow. Callers treat the values as read-only (``replace`` makes new ones).
    """
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
        # Z-Stack 3.x keeps this legacy item; zigbee-herdsman reads its length (24 aligned,
        # 21 packed) to learn the platform's struct packing.
        self.osal[OsalNvIds.NWKKEY] = bytearray(len(serialize(t.NwkActiveKeyItems(
            Active=t.NwkKeyDesc(KeySeqNum=0, Key=t.KeyData(bytes(16))), FrameCounter=0))))
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
        """The item as ``item_type``; ``default`` if missing or not parseable as one (a host
        may write any bytes into any item)."""
        data = self.osal.get(nvid)
        if data is None:
            return default
        try:
            return deserialize(bytes(data), item_type)
        except ValueError:
            return default

    def put(self, nvid: int, value) -> None:
        self.osal[nvid] = bytearray(serialize(value))

    def put_padded(self, nvid: int, value) -> None:
        """Write ``value`` into a fixed-length item, zero-padding it (link-key table)."""
        data = serialize(value)
        item = self.osal.setdefault(nvid, bytearray(len(data)))
        item[:] = data.ljust(len(item), b"\x00")[:max(len(item), len(data))]

    def table(self, item_id: ExNvIds, item_type) -> list:
        entries = []
        sub_id = 0
        while (key := (NvSysIds.ZSTACK, item_id, sub_id)) in self.tables:
            try:
                entries.append(deserialize(bytes(self.tables[key]), item_type))
            except ValueError:
                break  # a host re-created this entry with another length: the table ends
            sub_id += 1
        return entries

    def put_table_entry(self, item_id: ExNvIds, sub_id: int, value) -> None:
        self.tables[(NvSysIds.ZSTACK, item_id, sub_id)] = bytearray(serialize(value))

    # -- the MT commands on NVRAM: each takes a request and returns its SRSP -------------
    def commands(self) -> dict[type, Callable]:
        return {
            c.SYS.OSALNVLength.Req: self._osal_length, c.SYS.OSALNVRead.Req: self._osal_read,
            c.SYS.OSALNVReadExt.Req: self._osal_read, c.SYS.OSALNVWrite.Req: self._osal_write,
            c.SYS.OSALNVWriteExt.Req: self._osal_write, c.SYS.OSALNVItemInit.Req: self._osal_init,
            c.SYS.OSALNVDelete.Req: self._osal_delete, c.SYS.NVLength.Req: self._nv_length,
            c.SYS.NVRead.Req: self._nv_read, c.SYS.NVWrite.Req: self._nv_write,
            c.SYS.NVCreate.Req: self._nv_create, c.SYS.NVDelete.Req: self._nv_delete,
        }

    def _osal_length(self, req):
        return req.Rsp(ItemLen=len(self.osal.get(req.Id, b"")))

    def _osal_read(self, req):
        return _read(req, self.osal.get(req.Id), NV_CHUNK)

    def _osal_write(self, req):
        return req.Rsp(Status=_write_into(self.osal.get(req.Id), req.Offset, bytes(req.Value)))

    def _room_for(self, length: int) -> bool:
        """Whether a new item of ``length`` bytes fits the NV pages (bounded, as flash is)."""
        items = len(self.osal) + len(self.tables)
        used = sum(map(len, self.osal.values())) + sum(map(len, self.tables.values()))
        return length <= MAX_ITEM and items < MAX_ITEMS and used + length <= MAX_BYTES

    def _osal_init(self, req):
        if req.Id in self.osal:
            return req.Rsp(Status=t.Status.SUCCESS)
        if not self._room_for(req.ItemLen):
            return req.Rsp(Status=t.Status.NV_OPER_FAILED)
        item = bytearray(req.ItemLen)
        initial = bytes(req.Value)[:req.ItemLen]
        item[:len(initial)] = initial
        self.osal[req.Id] = item
        return req.Rsp(Status=t.Status.NV_ITEM_UNINIT)

    def _osal_delete(self, req):
        data = self.osal.get(req.Id)
        if data is None:
            return req.Rsp(Status=t.Status.NV_ITEM_UNINIT)
        if len(data) != req.ItemLen:
            return req.Rsp(Status=t.Status.NV_BAD_ITEM_LEN)
        del self.osal[req.Id]
        return req.Rsp(Status=t.Status.SUCCESS)

    def _item(self, req) -> tuple[dict, object]:
        """Where a (sys, item, sub) id lives: LEGACY items are the OSAL items."""
        if req.SysId == NvSysIds.ZSTACK and req.ItemId == ExNvIds.LEGACY:
            return self.osal, int(req.SubId)
        return self.tables, (int(req.SysId), int(req.ItemId), int(req.SubId))

    def _nv_length(self, req):
        store, key = self._item(req)
        return req.Rsp(Length=len(store.get(key, b"")))

    def _nv_read(self, req):
        store, key = self._item(req)
        return _read(req, store.get(key), min(int(req.Length), NV_CHUNK))

    def _nv_write(self, req):
        store, key = self._item(req)
        return req.Rsp(Status=_write_into(store.get(key), req.Offset, bytes(req.Value)))

    def _nv_create(self, req):
        store, key = self._item(req)
        if key in store:
            return req.Rsp(Status=t.Status.SUCCESS)
        if not self._room_for(req.Length):
            return req.Rsp(Status=t.Status.NV_OPER_FAILED)
        store[key] = bytearray(req.Length)
        return req.Rsp(Status=t.Status.NV_ITEM_UNINIT)

    def _nv_delete(self, req):
        store, key = self._item(req)
        found = store.pop(key, None) is not None
        return req.Rsp(Status=t.Status.SUCCESS if found else t.Status.NV_ITEM_UNINIT)


def _read(req, item: bytearray | None, most: int):
    if item is None or req.Offset > len(item):
        return req.Rsp(Status=t.Status.INVALID_PARAMETER, Value=t.ShortBytes(b""))
    return req.Rsp(Status=t.Status.SUCCESS,
                   Value=t.ShortBytes(bytes(item[req.Offset:req.Offset + most])))


def _write_into(item: bytearray | None, offset: int, value: bytes) -> t.Status:
    if item is None:
        return t.Status.NV_ITEM_UNINIT
    if offset + len(value) > len(item):
        return t.Status.NV_BAD_ITEM_LEN
    item[offset:offset + len(value)] = value
    return t.Status.SUCCESS
