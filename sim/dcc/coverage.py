"""The SM WAN coverage database behind SRV 12.1 Request WAN Matrix.

Per premises (by UPRN, or post code + address identifier) and CSP region: whether the
SM WAN covers it, when coverage is expected if not, the WAN technology and how likely
a Comms Hub is to connect (High / Medium / Low).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sim.duis.bodies import RequestWANMatrix
from sim.duis.response import WANMatrixRow

#: WAN technology by CSP region (domain.md §2: Arqiva long-range radio in the North,
#: Telefonica cellular in Central and South).
TECHNOLOGY = {
    "North": "Long Range Radio", "Central": "Cellular", "South": "Cellular",
    "4G North": "4G Cellular", "4G Central": "4G Cellular", "4G South": "4G Cellular",
}


@dataclass(frozen=True)
class Coverage:
    """Coverage of one premises in one CSP region."""

    csp_region: str
    available: bool
    likelihood: str = "High"
    anticipated_date: str | None = None

    def row(self) -> WANMatrixRow:
        return WANMatrixRow(
            self.csp_region, "I0", self.available, self.anticipated_date,
            TECHNOLOGY.get(self.csp_region, "Unknown"), self.likelihood,
        )


def premises_key(uprn: str | None = None, post_code: str | None = None,
                 address_identifier: str | None = None) -> str:
    """One lookup key whichever way the premises is named (case and spacing ignored)."""
    if uprn:
        return f"uprn:{int(uprn)}"
    return "addr:" + " ".join(f"{post_code} | {address_identifier}".upper().split())


@dataclass
class CoverageDatabase:
    """Coverage rows by premises key."""

    rows: dict[str, list[Coverage]] = field(default_factory=dict)

    def add(self, key: str, coverage: Coverage) -> None:
        self.rows.setdefault(key, []).append(coverage)

    def lookup(self, request: RequestWANMatrix) -> list[Coverage] | None:
        key = premises_key(request.uprn, request.post_code, request.address_identifier)
        return self.rows.get(key)
