"""The world in time: SimPy environment, parties, site lifecycle, policies, CLI."""
