"""What an EmberZNet NCP keeps in flash (its tokens) across resets, bounded as on the chip.

The network it formed (node data, network management), the network key and its frame
counter, the trust centre's link key, the key table (install-code link keys, in the
security manager's store) and the address table of the devices that joined. The NV3
tokens hosts read and write (``getTokenData``/``setTokenData``) are views of these, laid
out with bellows' own token structures.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import bellows.types as bt
import zigpy.types as zt

from han.znp.meters import NetworkParameters

KEY_TABLE_SIZE = 12  # CONFIG_KEY_TABLE_SIZE as hosts configure it
ADDRESS_TABLE_SIZE = 16  # CONFIG_ADDRESS_TABLE_SIZE
COORDINATOR_NWK = 0x0000


@dataclass
class FormedNetwork:
    pan_id: int
    extended_pan_id: zt.EUI64
    channel: int
    channels: int
    tx_power: int = 8
    nwk_manager_id: int = COORDINATOR_NWK
    nwk_update_id: int = 0


@dataclass
class EmberTokens:
    """The NCP's persistent state; a :class:`~han.coordinator.core.NetworkStore`."""

    hardware_eui64: zt.EUI64
    restored_eui64: zt.EUI64 | None = None  # CREATOR_STACK_RESTORED_EUI64 (a backup's)
    formed: FormedNetwork | None = None
    network_key: bytes | None = field(default=None, repr=False)
    network_key_seq: int = 0
    nwk_frame_counter: int = 0
    aps_frame_counter: int = 0
    tc_link_key: bytes = field(default=b"ZigBeeAlliance09", repr=False)
    hashed_tc_link_key: bool = False
    link_keys: dict[int, tuple[zt.EUI64, bytes]] = field(default_factory=dict, repr=False)
    addresses: dict[zt.EUI64, int] = field(default_factory=dict)

    def factory_reset(self, keep_frame_counter: bool) -> None:
        """tokenFactoryReset: everything but the EUI-64 (and maybe the frame counter)."""
        counter = self.nwk_frame_counter if keep_frame_counter else 0
        fresh = EmberTokens(self.hardware_eui64, self.restored_eui64)
        self.__dict__.update(fresh.__dict__)
        self.nwk_frame_counter = counter

    # -- NetworkStore ------------------------------------------------------------------
    def coordinator_ieee(self) -> zt.EUI64:
        return self.restored_eui64 or self.hardware_eui64

    def network(self) -> NetworkParameters | None:
        if self.formed is None:
            return None
        return NetworkParameters(
            channel=self.formed.channel, pan_id=self.formed.pan_id,
            extended_pan_id=self.formed.extended_pan_id,
            coordinator_ieee=self.coordinator_ieee(), network_key=self.network_key,
            nwk_frame_counter=self.nwk_frame_counter)

    def children(self) -> dict[zt.EUI64, int]:
        return dict(self.addresses)

    def add_child(self, ieee: zt.EUI64, nwk: int) -> bool:
        if ieee not in self.addresses and len(self.addresses) >= ADDRESS_TABLE_SIZE:
            return False
        self.addresses[ieee] = nwk
        return True

    def remove_child(self, ieee: zt.EUI64) -> None:
        self.addresses.pop(ieee, None)
        for index in [i for i, (eui, _) in self.link_keys.items() if eui == ieee]:
            del self.link_keys[index]

    def key_table(self) -> dict[zt.EUI64, bytes]:
        return {eui: key for eui, key in self.link_keys.values()}

    def keep_link_key(self, ieee: zt.EUI64, key: bytes) -> None:
        index = self.key_index(ieee)
        if index is None:
            index = next((i for i in range(KEY_TABLE_SIZE) if i not in self.link_keys), None)
        if index is not None:
            self.link_keys[index] = (ieee, key)

    def key_index(self, ieee: zt.EUI64) -> int | None:
        return next((i for i, (eui, _) in self.link_keys.items() if eui == ieee), None)

    def count_secured(self, frames: int) -> None:
        self.nwk_frame_counter = (self.nwk_frame_counter + frames) & 0xFFFFFFFF

    def move_channel(self, channel: int) -> None:
        if self.formed is not None and 11 <= channel <= 26:
            self.formed.channel = channel
            self.formed.nwk_update_id = (self.formed.nwk_update_id + 1) & 0xFF

    # -- NV3 tokens as hosts read and write them ------------------------------------------
    def read_token(self, key: int) -> bytes | None:
        """A token's value as the NCP's getTokenData returns it, or None if absent."""
        if key == bt.NV3KeyId.CREATOR_STACK_RESTORED_EUI64:
            return (self.restored_eui64 or zt.EUI64.convert("FF:FF:FF:FF:FF:FF:FF:FF")).serialize()
        network = self.formed
        if key == bt.NV3KeyId.NVM3KEY_STACK_NODE_DATA and network is not None:
            return bt.NV3StackNodeData(
                panId=network.pan_id, radioTxPower=network.tx_power,
                radioFreqChannel=network.channel, stackProfile=0x02,
                nodeType=bt.EmberNodeType.COORDINATOR, zigbeeNodeId=COORDINATOR_NWK,
                extendedPanId=network.extended_pan_id).serialize()
        if key == bt.NV3KeyId.NVM3KEY_STACK_TRUST_CENTER and network is not None:
            return bt.NV3StackTrustCenterToken(
                mode=0, eui64=self.coordinator_ieee(), key=self.tc_link_key).serialize()
        if key == bt.NV3KeyId.NVM3KEY_STACK_NETWORK_MANAGEMENT and network is not None:
            return bt.NV3StackNetworkManagementToken(
                active_channels=network.channels, manager_node_id=network.nwk_manager_id,
                update_id=network.nwk_update_id, padding=0).serialize()
        return None

    def write_token(self, key: int, value: bytes) -> bool:
        """setTokenData: False for a token the NCP does not let hosts write, or bad bytes."""
        try:
            if key == bt.NV3KeyId.CREATOR_STACK_RESTORED_EUI64:
                eui64, rest = zt.EUI64.deserialize(value)
                if rest:
                    return False
                unset = eui64 == zt.EUI64.convert("FF:FF:FF:FF:FF:FF:FF:FF")
                self.restored_eui64 = None if unset else eui64  # used from the next reset
                return True
            network = self.formed
            if key == bt.NV3KeyId.NVM3KEY_STACK_NODE_DATA and network is not None:
                node, rest = bt.NV3StackNodeData.deserialize(value)
                network.tx_power = int(node.radioTxPower)
                return not rest
            if key == bt.NV3KeyId.NVM3KEY_STACK_NETWORK_MANAGEMENT and network is not None:
                management, rest = bt.NV3StackNetworkManagementToken.deserialize(value)
                network.nwk_update_id = int(management.update_id)
                return not rest
        except (ValueError, KeyError):
            return False
        return False
