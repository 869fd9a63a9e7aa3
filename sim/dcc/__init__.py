"""The DCC: the Smart Metering Inventory, the front door that checks service requests,
delivery over the SM WAN, and the SM WAN coverage database behind SRV 12.1."""
