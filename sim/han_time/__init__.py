"""The HAN in simulated time: the Comms Hub's ZigBee network as the world's clock runs it.

Open, by what you want:

- ``air.py``: the simulated 2.4 GHz air (airtime, loss, MAC acks and retries, channels).
- ``frame_join.py``: one meter joining the hub's HAN frame by frame on that air; the
  hub's one network (:class:`HanNetwork`); join statistics for the population model.
- ``radio_join.py``: SRV 8.11 joins on a real or virtual ZigBee stick, in real time.
- ``air_radio.py``: the simulated air behind the same radio interface as a stick.
- ``stick_join.py``: the frame-level join inside the virtual stick, for each emulated meter.

The frames, keys and join state machines themselves are in ``han/`` (no clock).
"""
