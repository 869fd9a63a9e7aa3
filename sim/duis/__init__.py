"""DUIS: the DCC User Interface Specification's XML service requests, responses and alerts.

Typed objects that read and write real DUIS V5.4 XML; :mod:`sim.duis.schema` checks
what we read and write against the DCC's own XSD.
"""
