"""A stick restored from a host's backup knows the meters from the key table the host
writes back: a meter whose install-code link key is there is on the network at once, at
the short address the coordinator gave it when it joined; a wrong key, an erased entry or
another network does not put it there. (The real clients' restores, zigpy-znp's and
bellows' onto a new stick, are in test_znp_zigpy_network.py and test_ezsp_bellows.py.)"""

from __future__ import annotations

import bellows.types as bt
import zigpy.types as zt

from han.coordinator.core import home_address
from han.ezsp.emulator import EzspEmulator
from han.ezsp.tokens import FormedNetwork
from han.znp.meters import EmulatedMeter

ESME = EmulatedMeter.parse("00-DB-12-34-56-78-90-A0=83FED3407A939723A5C639B26916D505C3B5")
EPID = zt.EUI64.convert("DD:DD:DD:DD:DD:DD:DD:DD")


def restored_stick(extended_pan_id: zt.EUI64 = EPID) -> EzspEmulator:
    """A new chip with the backup's network written back, as formNetwork leaves it."""
    stick = EzspEmulator(meters=(ESME,), seed=5)
    stick.tokens.formed = FormedNetwork(pan_id=0x1A62, extended_pan_id=extended_pan_id,
                                        channel=15, channels=1 << 15)
    stick.tokens.network_key = bytes(range(16))
    return stick


def address_on(stick: EzspEmulator) -> int:
    """The short address the stick's coordinator gives ESME on the stick's network."""
    network = stick.tokens.network()
    assert network is not None
    return home_address(network, ESME.ieee)


def import_key(stick: EzspEmulator, key: bytes) -> None:
    status = stick._handlers["importLinkKey"]({"index": 0, "address": ESME.ieee, "key": key})
    assert status == (0,)  # sl_Status.OK


def test_a_restored_key_table_puts_the_meter_back_where_it_joined() -> None:
    joined = restored_stick()
    joined.core.install_keys[ESME.ieee] = ESME.link_key
    joined.core._attempt(ESME)  # joins this network: its key goes to the key table
    nwk = joined.core.joined()[ESME.ieee]
    assert nwk == address_on(joined)

    stick = restored_stick()  # another process: nothing shared with ``joined``
    assert stick.core.joined() == {}
    import_key(stick, ESME.link_key)
    assert stick.core.joined() == {ESME.ieee: nwk}
    assert stick._handlers["lookupNodeIdByEui64"]({"eui64": ESME.ieee}) == (nwk,)
    stick._handlers["eraseKeyTableEntry"]({"index": 0})
    assert stick.core.joined() == {}


def test_a_key_not_the_meters_does_not_and_each_network_has_its_own_address() -> None:
    stick = restored_stick()
    import_key(stick, bytes(16))
    assert stick.core.joined() == {}
    other = restored_stick(zt.EUI64.convert("11:22:33:44:55:66:77:88"))
    import_key(other, ESME.link_key)
    assert other.core.joined() == {ESME.ieee: address_on(other)} != {ESME.ieee: address_on(stick)}


def replace_entry(stick: EzspEmulator, index: int, nwk: int) -> tuple:
    return stick._handlers["replaceAddressTableEntry"](
        {"addressTableIndex": index, "newEui64": ESME.ieee, "newId": nwk,
         "newExtendedTimeout": False})


def test_bellows_address_table_entry_puts_a_meter_back_only_at_a_router_address() -> None:
    stick = restored_stick()
    assert replace_entry(stick, 16, 0x1234)[0] == bt.EmberStatus.ADDRESS_TABLE_INDEX_OUT_OF_RANGE
    for nwk in (0x0000, 0xFFFC, 0xFFFF):  # the coordinator's, broadcasts
        assert replace_entry(stick, 0, nwk)[0] == bt.EmberStatus.SUCCESS  # as an NCP says
        assert stick.core.joined() == {}
    assert replace_entry(stick, 0, 0x1234)[0] == bt.EmberStatus.SUCCESS
    assert stick.core.joined() == {ESME.ieee: 0x1234}
    assert stick._handlers["getAddressTableRemoteNodeId"]({"addressTableIndex": 0}) == (0x1234,)
