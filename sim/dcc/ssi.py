"""The DCC Self-Service Interface's "Request for Install Code" incident (MP121, SSI route).

As the DCC's preliminary impact assessment describes it (seeds: MP121 PIA §4): the
requester raises the incident with the Device ID; the SSI asks DCC Total System whether
the device exists in the SMI and is in an appropriate state, then DSMS creates the
incident and auto-assigns it to the user that pre-notified the device (12.2), emailing
them. The assignee adds the install code as a note (DSMS cannot check that the note holds
one) and DSMS emails the creator on every update; only the creator may close the
incident. "SSI and DSP cannot establish whether the creator of the incident is the valid
Supplier to the Device": anyone may raise one.

The appropriate states are to be agreed in the full assessment; hansim takes those of an
installed meter not yet commissioned (L): InstalledNotCommissioned, and Whitelisted (its
8.11 sent, the join or 8.1.1 not done). A meter left Pending after install and leave
cannot be asked about. Notes never hold the code itself here: only whether they carry one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sim.dcc.smi import Inventory

#: SMI statuses in which the SSI accepts a "Request for Install Code" incident (L).
APPROPRIATE = ("InstalledNotCommissioned", "Whitelisted")


class IncidentRefused(Exception):
    """The SSI will not create the incident (device unknown, wrong state) or act on it."""


@dataclass
class Note:
    author: str
    at: float
    carries_code: bool


@dataclass
class Incident:
    number: str
    device_id: str
    creator: str  # user ID of whoever raised it (never checked against the registration)
    assignee: str  # user ID that pre-notified the device
    opened: float
    notes: list[Note] = field(default_factory=list)
    closed: float | None = None


class SelfServiceInterface:
    """The incidents of one DCC, checked against its SMI."""

    def __init__(self, smi: Inventory) -> None:
        self.smi = smi
        self.incidents: list[Incident] = []

    def raise_incident(self, creator: str, device_id: str, at: float) -> Incident:
        """Create and auto-assign an incident, or IncidentRefused saying why not."""
        record = self.smi.get(device_id)
        if record is None:
            raise IncidentRefused(f"{device_id} is not in the SMI")
        if record.status not in APPROPRIATE:
            raise IncidentRefused(f"{record.device_type} {device_id} is {record.status} in the SMI, "
                                  f"not {' or '.join(APPROPRIATE)}")
        if record.prenotified_by is None:
            raise IncidentRefused(f"the SMI does not say who pre-notified {device_id}")
        incident = Incident(f"INC{len(self.incidents) + 1:06d}", device_id.upper(), creator.upper(),
                            record.prenotified_by, at)
        self.incidents.append(incident)
        return incident

    def add_note(self, incident: Incident, author: str, at: float, carries_code: bool) -> None:
        """A note from the assignee (or the creator); DSMS then emails the creator."""
        if incident.closed is not None:
            raise IncidentRefused(f"{incident.number} is closed")
        if author.upper() not in (incident.assignee, incident.creator):
            raise IncidentRefused(f"{author} is neither the creator nor the assignee of {incident.number}")
        incident.notes.append(Note(author.upper(), at, carries_code))

    def close(self, incident: Incident, user: str, at: float) -> None:
        """Only the creator may close it (MP121 requirement 4)."""
        if user.upper() != incident.creator:
            raise IncidentRefused(f"only {incident.creator}, who raised {incident.number}, may close it")
        incident.closed = at
