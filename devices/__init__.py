"""Emulated hardware: Comms Hub (CHF + GPF), ESME, GSME, IHD, with their non-volatile state."""
