"""The ZigBee HAN as bytes and keys, with no clock: install codes, keys, frames, join logic."""
