"""Firmware images: ZigBee OTA header plus manufacturer ECDSA P-256 signature."""
