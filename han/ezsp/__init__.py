"""A virtual Silicon Labs EmberZNet NCP: EZSP over ASH, as bellows and zigbee-herdsman speak it.

The same coordinator core as the virtual Z-Stack stick (:mod:`han.coordinator`) behind
an EZSP front end. Frames are parsed and built with bellows' own ASH frame classes and
EZSP command definitions; the check is the unmodified clients (bellows, and
zigbee-herdsman's ``ember`` adapter) driving it.
"""
