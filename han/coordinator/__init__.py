"""The virtual coordinator both virtual sticks share: network, key table, meters, air.

A stick is this core behind a thin protocol front end: TI's ZNP MT (:mod:`han.znp`) or
Silicon Labs' EZSP over ASH (:mod:`han.ezsp`). The core decides joins, answers ZDO and
ZCL on behalf of the meters and keeps time; a front end stores the network the way its
chip does (Z-Stack NV items, EmberZNet tokens) and turns events into its own frames.
"""
