"""What a replay shows and writes: the terminal timeline, the files, the expectations.

Files (all or none, via :class:`~sim.output.OutputDir`): ``timeline.jsonl`` (one event a
line), ``duis/NNN-k_SRV_what.xml`` (every request, response and alert in the order sent;
an 8.11 Add request carries the install code because DUIS does), ``pcap/join-NN_ID.pcap``
(one per HAN join, IEEE 802.15.4 with FCS), ``summary.json`` and ``timeline.png``. Nothing
but the DUIS 8.11 requests holds an install code or a key.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend is chosen first)
from matplotlib.patches import Patch  # noqa: E402

from han.pcap import pcap_bytes, zigbee_key_rows  # noqa: E402
from sim.replay.story import Entry, Replay  # noqa: E402


@dataclass(frozen=True)
class Check:
    """One ``expect:`` outcome: what was expected, what happened, and whether they match."""

    what: str
    expected: object
    actual: object
    ok: bool

    def __str__(self) -> str:
        return f"{self.what}: expected {self.expected}, got {self.actual}"


def line(replay: Replay, entry: Entry) -> str:
    """``2024-02-19 WD  30  installer   SRV 8.11 ...``: one terminal line."""
    text = entry.event
    if entry.smi and "SMI" not in text:
        text += "; SMI " + ", ".join(entry.smi)
    return f"{replay.date(entry.time)} WD{replay.wd(entry.time):>4}  {entry.actor:<12} {text}"


def checks(replay: Replay) -> list[Check]:
    """The scenario's expectations against what the replay did."""
    expect = replay.scenario.expect
    found = []
    for name, by in (expect.get("commissioned") or {}).items():
        wd = commissioned_wd(replay, name)
        ok = wd is not None and (by is None or wd <= by)
        found.append(Check(f"{name} Commissioned" + (f" by WD {by}" if by is not None else ""),
                           "Commissioned", "not commissioned" if wd is None else f"Commissioned on WD {wd}", ok))
    for name in expect.get("not_commissioned") or []:
        wd = commissioned_wd(replay, name)
        found.append(Check(f"{name} not Commissioned", "not commissioned",
                           "not commissioned" if wd is None else f"Commissioned on WD {wd}", wd is None))
    if "joins" in expect:
        joins = len(replay.joins.records)
        found.append(Check("HAN joins", expect["joins"], joins, joins == expect["joins"]))
    if "code_requests" in expect:
        found.append(Check("install-code requests sent", expect["code_requests"], replay.code_requests,
                           replay.code_requests == expect["code_requests"]))
    if "replacement" in expect:
        found.append(Check("replacement visit", expect["replacement"], replay.replaced,
                           replay.replaced == expect["replacement"]))
    if "alerts" in expect:
        wanted = [a.upper() for a in expect["alerts"]]
        found.append(Check("alerts in this order", " ".join(wanted), " ".join(replay.alerts),
                           _in_order(wanted, replay.alerts)))
    return found


def commissioned_wd(replay: Replay, name: str) -> int | None:
    """Working day on which the device in slot ``name`` (or its replacement) was Commissioned."""
    record = replay.dcc.smi.get(replay.slots[name])
    if record is None or record.status != "Commissioned":
        return None
    day = next(d for s, d in record.history if s == "Commissioned")
    return replay.wd(replay.clock.calendar.time(dt.date.fromisoformat(day)))


def _in_order(wanted: list[str], seen: list[str]) -> bool:
    rest = iter(seen)
    return all(any(code == s for s in rest) for code in wanted)


def summary(replay: Replay, found: list[Check]) -> dict:
    scenario = replay.scenario
    devices = {}
    for name, device_id in replay.slots.items():
        record = replay.dcc.smi.get(device_id)
        devices[name] = {"id": device_id, "type": replay.scenario.devices[name].device_type,
                         "status": record.status if record else "Absent",
                         "commissioned_wd": commissioned_wd(replay, name)}
    return {
        "scenario": scenario.name, "title": scenario.title, "seed": replay.seed,
        "start": scenario.start.isoformat(), "policy": scenario.policy.name,
        "policy_params": scenario.policy.params(), "devices": devices,
        "joins": [{"device": r.device_id, "joined": r.result.joined, "reason": r.result.reason,
                   "frames": len(r.report.frames) if r.report else None}
                  for r in replay.joins.records],
        "alerts": replay.alerts, "code_requests": replay.code_requests, "replacement": replay.replaced,
        "duis_documents": sum(len(r.documents) for r in replay.requests),
        "end_wd": replay.wd(replay.end),
        "expectations": [{"what": c.what, "expected": c.expected, "actual": c.actual, "ok": c.ok}
                         for c in found],
        "ok": all(c.ok for c in found),
    }


def _join_names(replay: Replay) -> list[str]:
    """``join-01_00-DB-...``: each HAN join in order, named by its meter."""
    return [f"join-{n:02d}_{r.device_id}" for n, r in enumerate(replay.joins.records, 1)]


def files(replay: Replay, found: list[Check]) -> dict[str, bytes]:
    """Every output file by relative name; the same replay gives the same bytes."""
    out: dict[str, bytes] = {}
    out["timeline.jsonl"] = "".join(json.dumps({
        "time_s": round(e.time, 3), "date": replay.date(e.time).isoformat(), "wd": replay.wd(e.time),
        "actor": e.actor, "event": e.event, "smi": e.smi, "site": e.site}) + "\n"
        for e in replay.entries).encode()
    for request in replay.requests:
        for index, (name, data) in enumerate(request.documents, 1):
            out[f"duis/{request.step:03d}-{index}_{request.srv}_{name}.xml"] = data
    for name, record in zip(_join_names(replay), replay.joins.records):
        if record.report is not None:  # a radio's join was on real air: no capture here
            out[f"pcap/{name}.pcap"] = pcap_bytes((replay.epoch_s + f.time, f.raw)
                                                  for f in record.report.frames)
    out["summary.json"] = (json.dumps(summary(replay, found), indent=2) + "\n").encode()
    out["timeline.png"] = plot(replay)
    return out


def wireshark_keys(replay: Replay) -> str:
    """zigbee_pc_keys rows for ``--keys-out``: every install-code link key the story used (the
    meters' and any the suppliers sent) and each join's network key. Secrets, on request only."""
    codes = {**replay.codes, **{f"{d.device_id} (installer's record)": d.installer_record
                                for d in replay.scenario.devices.values()}}
    rows, seen = [], set()
    for label, code in codes.items():
        key = bytes(code.link_key())
        if key not in seen:
            seen.add(key)
            rows.append((key, f"install-code link key {label}"))
    rows += [(r.report.network_key, f"HAN network key, join {n}")
             for n, r in enumerate(replay.joins.records, 1) if r.report is not None]
    return zigbee_key_rows(rows)


STATE_COLOURS = {"WAITING_FOR_WAN": "#9ecae1", "ORPHANED": "#fdae6b", "WAITING_FOR_CODE": "#fd8d3c",
                 "AWAITING_VISIT": "#fb6a4a", "STRANDED": "#de2d26", "COMMISSIONING": "#74c476",
                 "COMMISSIONED": "#238b45"}


MARKS = (("SM WAN arrives", "^"), ("change of supplier", "s"), ("8F48", "x"), ("8F49", "o"),
         ("replacement visit", "D"))


def plot(replay: Replay) -> bytes:
    """Each site's lifecycle states over working days, with the scripted and DUIS events."""
    sites = sorted({s.site for s in replay.spans})
    end = max(replay.wd(replay.end) + 5, 10)
    fig, ax = plt.subplots(figsize=(10, 1.6 + 0.6 * len(sites)), dpi=100)
    for span in replay.spans:
        start, stop = replay.wd(span.start), replay.wd(span.end)
        width = max(stop - start, 0.4) if span.state != "COMMISSIONED" else end - start
        ax.barh(span.site, width, left=start, height=0.5, color=STATE_COLOURS[span.state],
                edgecolor="black", linewidth=0.3)
    handles = [Patch(color=c, label=s.lower().replace("_", " ")) for s, c in STATE_COLOURS.items()]
    for row, (key, marker) in enumerate(MARKS):
        days = [replay.wd(e.time) for e in replay.entries if key in e.event]
        if days:
            ax.plot(days, [0.45 + 0.1 * (row % 2)] * len(days), marker=marker, linestyle="none",
                    color="black", markersize=6)
    ax.set_yticks(sites, [f"site {s}" for s in sites])
    ax.set_ylim(0.3, len(sites) + 0.9)
    ax.set_xlim(0, end)
    ax.set_xlabel("working days since the scenario's start (England and Wales)")
    ax.set_title(f"{replay.scenario.name}: ^ WAN, s CoS, x 0x8F48, o 0x8F49, D replacement", fontsize=9)
    ax.legend(handles=handles, fontsize=7, ncols=3, loc="upper left")
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", metadata={"Software": None})
    plt.close(fig)
    return buffer.getvalue()
