"""A virtual TI Z-Stack coordinator: the ZNP MT serial protocol spoken by zigpy-znp.

Everyone without a USB stick (and CI) drives this emulator with the unmodified radio
library, so the hardware path is tested end to end. It needs the ``hansim[sticks]``
extra (zigpy-znp), whose own command and type definitions parse and build every frame.
"""
