"""What a replay shows and writes: the terminal timeline, the files, the expectations.

Files (all or none, via :class:`~sim.output.OutputDir`): ``timeline.jsonl`` and
``timeline.csv`` (one event a line), ``duis/NNN-k_SRV_what.xml`` (every request, response
and alert in the order sent; an 8.11 Add request carries the install code because DUIS
does), ``pcap/join-NN_ID.pcap`` (one per HAN join, IEEE 802.15.4 with FCS),
``keystore/`` (the certificates gbcs-parser needs to verify the DUIS files' GBCS payloads),
``summary.json`` (with which XSD, if any, every DUIS file was validated against),
``timeline.png`` (or ``.svg``) and ``report.html``. Nothing but the DUIS 8.11 requests
holds an install code or a key.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

from matplotlib import dates as mdates
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from han.pcap import pcap_bytes, zigbee_key_rows
from sim.dcc.gbcs_link import keystore_files
from sim.duis import schema as duis_schema
from sim.plotting import figure_bytes, new_figure
from sim.replay.scenario import folder_name
from sim.replay.story import Entry, Replay


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


def street_files(replays: list[Replay], found: list[list[Check]], plot_format: str = "png",
                 progress: Callable[[str], None] | None = None) -> dict[str, bytes]:
    """A one-premises replay's files as :func:`files` writes them; for a street, each
    premises' files in its own folder (``no-2/``: timeline, DUIS, its capture, plot,
    report), with a ``summary.json``, a ``timeline`` plot and a ``report.html`` over the street
    saying where each premises is and whether it held."""
    from sim.replay.html_report import render_street  # the HTML page reads this module's tables

    if len(replays) == 1 and replays[0].scenario.premises is None:
        return files(replays[0], found[0], plot_format, progress=progress)
    out: dict[str, bytes] = {}
    street = []
    for replay, checked in zip(replays, found):
        premises = replay.scenario.premises or ""
        folder = folder_name(premises)
        made = files(replay, checked, plot_format, progress=progress)
        out |= {f"{folder}/{name}": data for name, data in made.items()}
        joins = replay.joins.records
        street.append({"premises": premises, "folder": folder, "chf": replay.scenario.chf, "seed": replay.seed,
                       "pan_id": f"0x{joins[0].report.pan_id:04X}" if joins and joins[0].report else None,
                       "channel": joins[0].report.channel if joins and joins[0].report else None,
                       "ok": all(c.ok for c in checked),
                       "expectations": [{"what": c.what, "expected": c.expected, "actual": c.actual, "ok": c.ok}
                                        for c in checked]})
    first = replays[0].scenario
    whole = {"scenario": first.name, "title": first.title, "start": first.start.isoformat(),
             "policy": first.policy.name, "premises": street, "ok": all(p["ok"] for p in street)}
    out["summary.json"] = (json.dumps(whole, indent=2) + "\n").encode()
    figure = street_figure(replays)
    out[f"timeline.{plot_format}"] = figure_bytes(figure, plot_format)
    out["report.html"] = render_street(whole, figure, f"timeline.{plot_format}").encode()
    return out


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
    if "refusals" in expect:
        wanted = list(expect["refusals"])
        found.append(Check("refused requests (DUIS codes)", " ".join(wanted) or "none",
                           " ".join(replay.refusals) or "none", wanted == replay.refusals))
    for name, wanted in (expect.get("code_holders") or {}).items():
        held = sorted(replay.code_holders.get(replay.slots[name], ()))
        found.append(Check(f"parties holding {name}'s install code", ", ".join(sorted(wanted)),
                           ", ".join(held), held == sorted(wanted)))
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


def summary(replay: Replay, found: list[Check], validation: dict | None = None) -> dict:
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
        "alerts": replay.alerts, "refusals": replay.refusals, "code_requests": replay.code_requests,
        "code_holders": {name: sorted(replay.code_holders.get(device_id, ()))
                         for name, device_id in replay.slots.items()},
        "replacement": replay.replaced,
        "duis_documents": sum(len(r.documents) for r in replay.requests),
        "duis_validation": validation if validation is not None else duis_validation(replay),
        "end_wd": replay.wd(replay.end),
        "expectations": [{"what": c.what, "expected": c.expected, "actual": c.actual, "ok": c.ok}
                         for c in found],
        "ok": all(c.ok for c in found),
    }


def duis_validation(replay: Replay) -> dict:
    """Whether every DUIS file was checked, against which XSD (file name and SHA-256), and
    what failed: the XSD the DCC used on receipt, applied again to every file written
    (responses and alerts too). Without an XSD at hand: ``validated`` false and why."""
    schema = replay.dcc.schema
    if schema is None:
        return {"validated": False, "reason": "no DUIS XSD at hand (give --schema or set "
                                              f"{duis_schema.ENV}): requests and files unchecked"}
    xsd = Path(unquote(urlparse(schema.url).path))
    invalid = {}
    for name, data in duis_files(replay).items():
        found = duis_schema.check_bytes(schema, data)
        if found:
            invalid[name] = [str(p) for p in found]
    return {"validated": True, "schema": xsd.name, "schema_sha256": hashlib.sha256(xsd.read_bytes()).hexdigest(),
            "checked": "every request by the DCC on receipt; every DUIS file before writing",
            "documents": sum(len(r.documents) for r in replay.requests), "invalid": invalid}


def _join_names(replay: Replay) -> list[str]:
    """``join-01_00-DB-...``: each HAN join in order, named by its meter."""
    return [f"join-{n:02d}_{r.device_id}" for n, r in enumerate(replay.joins.records, 1)]


def duis_files(replay: Replay) -> dict[str, bytes]:
    """Every DUIS document by its file name under ``duis/``, in the order sent."""
    return {f"duis/{request.step:03d}-{index}_{request.srv}_{name}.xml": data
            for request in replay.requests for index, (name, data) in enumerate(request.documents, 1)}


def pcap_files(replay: Replay) -> list[str | None]:
    """Each join's pcap file name, in join order; None for a radio's join (real air, no capture)."""
    return [f"pcap/{name}.pcap" if record.report is not None else None
            for name, record in zip(_join_names(replay), replay.joins.records)]


#: Every captured join of the premises' one HAN in one file.
PREMISES_PCAP = "pcap/premises.pcap"

TIMELINE_COLUMNS = ("time_s", "date", "clock", "wd", "site", "actor", "event", "smi")


def timeline_rows(replay: Replay) -> list[dict]:
    """The timeline as records: seconds and date-time since the start, working day, who, what."""
    rows = []
    for e in replay.entries:
        moment = replay.moment(e.time)
        rows.append({"time_s": round(e.time, 3), "date": moment.date().isoformat(),
                     "clock": moment.time().isoformat(timespec="seconds"), "wd": replay.wd(e.time),
                     "site": e.site, "actor": e.actor, "event": e.event, "smi": list(e.smi)})
    return rows


def timeline_csv(replay: Replay) -> str:
    """``timeline.csv``: one event a row; SMI changes joined by ``; ``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(TIMELINE_COLUMNS)
    for row in timeline_rows(replay):
        writer.writerow(["" if row[k] is None else "; ".join(row[k]) if k == "smi" else row[k]
                         for k in TIMELINE_COLUMNS])
    return buffer.getvalue()


#: The steps of :func:`files`, each reported to its ``progress`` as it ends.
FILE_STEPS = ("timeline", "DUIS XML", "pcaps", "summary", "plot", "report.html")


def files(replay: Replay, found: list[Check], plot_format: str = "png",
          progress: Callable[[str], None] | None = None) -> dict[str, bytes]:
    """Every output file by relative name; the same replay gives the same bytes.

    ``progress(step)`` is called as each of :data:`FILE_STEPS` ends (the plot and the
    validation take seconds)."""
    from sim.replay.html_report import render  # the HTML page reads this module's tables

    done = progress or (lambda _step: None)
    out: dict[str, bytes] = {}
    out["timeline.jsonl"] = "".join(json.dumps({
        "time_s": round(e.time, 3), "date": replay.date(e.time).isoformat(), "wd": replay.wd(e.time),
        "actor": e.actor, "event": e.event, "smi": e.smi, "site": e.site}) + "\n"
        for e in replay.entries).encode()
    out["timeline.csv"] = timeline_csv(replay).encode()
    done("timeline")
    out.update(duis_files(replay))
    # the certificates that verify the GBCS payloads in them (gbcs-parser's key store layout)
    out.update(keystore_files(replay.premises))
    done("DUIS XML")
    captured = [(name, r.report) for name, r in zip(pcap_files(replay), replay.joins.records)
                if name is not None and r.report is not None]  # a radio's join: no capture here
    for name, report in captured:  # TAP: each frame with its channel (the meter scans the band)
        out[name] = pcap_bytes((replay.epoch_s + f.time, f.raw, f.channel or report.channel) for f in report.frames)
    if captured:  # the premises' one HAN, every join in one capture
        out[PREMISES_PCAP] = pcap_bytes((replay.epoch_s + f.time, f.raw, f.channel or report.channel)
                                        for _, report in captured for f in report.frames)
    done("pcaps")
    validation = duis_validation(replay)
    out["summary.json"] = (json.dumps(summary(replay, found, validation), indent=2) + "\n").encode()
    done("summary")
    figure = timeline_figure(replay)
    out[f"timeline.{plot_format}"] = figure_bytes(figure, plot_format)
    done("plot")
    out["report.html"] = render(replay, found, validation, figure, f"timeline.{plot_format}").encode()
    done("report.html")
    return out


def wireshark_keys(replay: Replay) -> str:
    """zigbee_pc_keys rows for ``--keys-out``: every install-code link key the story used (the
    meters' and any the suppliers sent) and the premises' network key. Secrets, on request only."""
    codes = {**replay.codes, **{f"{d.device_id} (installer's record)": d.installer_record
                                for d in replay.scenario.devices.values()}}
    rows, seen = [], set()
    for label, code in codes.items():
        key = bytes(code.link_key())
        if key not in seen:
            seen.add(key)
            rows.append((key, f"install-code link key {label}"))
    for report in (r.report for r in replay.joins.records if r.report is not None):
        if report.network_key not in seen:  # one per HAN: the premises keeps its network key
            seen.add(report.network_key)
            rows.append((report.network_key, f"HAN network key, PAN 0x{report.pan_id:04X}"))
    return zigbee_key_rows(rows)




STATE_COLOURS = {"WAITING_FOR_WAN": "#9ecae1", "ORPHANED": "#fdae6b", "WAITING_FOR_CODE": "#fd8d3c",
                 "AWAITING_VISIT": "#fb6a4a", "STRANDED": "#de2d26", "COMMISSIONING": "#74c476",
                 "COMMISSIONED": "#238b45"}


@dataclass(frozen=True)
class Mark:
    """One kind of timeline event drawn as a marker: which entries, how, and its legend text."""

    label: str
    marker: str
    colour: str
    match: tuple[str, ...]  # texts of which the entry's event contains one
    premises: bool = False  # the event concerns the whole premises: drawn on every live site


MARKS = (
    Mark("SM WAN arrives", "^", "#3182bd", ("SM WAN arrives",), premises=True),
    Mark("change of supplier", "s", "#756bb1", ("change of supplier",), premises=True),
    Mark("install-code request sent", ">", "#e6550d", ("install code: request sent",)),
    Mark("install code received / obtained", "*", "#f0b400", ("install code received", "install code obtained")),
    Mark("0x8F48: HAN join failed", "X", "#cb181d", ("8F48",)),
    Mark("0x8F49: joined the HAN", "o", "#006d2c", ("8F49",)),
    Mark("replacement visit", "D", "#000000", ("replacement visit",)),
)


def _mark_of(entry: Entry) -> Mark | None:
    return next((m for m in MARKS if any(text in entry.event for text in m.match)), None)


def _rows(replay: Replay, entry: Entry, last_site: int) -> list[int]:
    """The site rows an entry's marker goes on: its own site; a premises-wide event on every
    site installed by then and not yet commissioned; a DUIS line on the site last in play."""
    if entry.site is not None:
        return [entry.site]
    mark = _mark_of(entry)
    if mark is not None and mark.premises:
        live = sorted({s.site for s in replay.spans if s.start <= entry.time and s.state != "COMMISSIONED"
                       and s.end >= entry.time})
        return live or [last_site]
    return [last_site]


def timeline_figure(replay: Replay) -> Figure:
    """Each site's lifecycle states against the calendar, every marked event on its site's row,
    a legend for every colour and marker; working days of the events along the top."""
    figure = new_figure(10, 2.4 + 0.7 * _site_count(replay))
    handles = _draw_timeline(figure.add_subplot(), replay, replay.end)
    figure.axes[0].set_title(f"{replay.scenario.name}: {replay.scenario.title}", fontsize=10)
    figure.legend(handles=handles, loc="outside lower center", ncols=4, fontsize=8, frameon=False)
    return figure


def street_figure(replays: list[Replay]) -> Figure:
    """A street's timelines one premises under another on one shared calendar, so what happened
    next door on the same day lines up; one legend for them all."""
    end = max(r.end + (r.epoch_s - replays[0].epoch_s) for r in replays)
    figure = new_figure(10, 1.6 + sum(0.9 + 0.7 * _site_count(r) for r in replays))
    axes = figure.subplots(len(replays), 1, sharex=True,
                           height_ratios=[0.9 + 0.7 * _site_count(r) for r in replays], squeeze=False)[:, 0]
    handles: dict[str, Artist] = {}
    for ax, replay in zip(axes, replays):
        for handle in _draw_timeline(ax, replay, end - (replay.epoch_s - replays[0].epoch_s)):
            handles.setdefault(str(handle.get_label()), handle)
        ax.set_title(f"{replay.scenario.premises}", fontsize=9, loc="left")
    for ax in axes[:-1]:  # one date label, under the last
        ax.set_xlabel("")
    first_day = min(mdates.date2num(r.moment(0.0)) for r in replays)
    axes[0].set_xlim(first_day - 1, max(ax.get_xlim()[1] for ax in axes))
    first = replays[0].scenario
    figure.suptitle(f"{first.name}: {first.title}", fontsize=10)
    figure.legend(handles=list(handles.values()), loc="outside lower center", ncols=4, fontsize=8, frameon=False)
    return figure


def _site_count(replay: Replay) -> int:
    return len({s.site for s in replay.spans}) or 1


def _draw_timeline(ax: Axes, replay: Replay, end: float) -> list[Artist]:
    """Draw ``replay``'s states and marked events on ``ax`` up to ``end`` (seconds from its day 0);
    the legend entries for what was drawn."""
    sites = sorted({s.site for s in replay.spans}) or [1]
    row = {site: n for n, site in enumerate(sites)}
    end_t = end + max(0.04 * end, 5 * 86400.0)

    def when(t: float) -> float:
        return mdates.date2num(replay.moment(t))

    for span in replay.spans:
        stop = end_t if span.state == "COMMISSIONED" else max(span.end, span.start + 0.3 * 86400)
        ax.barh(row[span.site], when(stop) - when(span.start), left=when(span.start), height=0.36,
                color=STATE_COLOURS[span.state], edgecolor="white", linewidth=0.5, zorder=2)
    marks: dict[Mark, list[tuple[float, float]]] = {}
    last_site = sites[0]
    for entry in replay.entries:
        mark = _mark_of(entry)
        if mark is not None:
            lane = MARKS.index(mark) / (len(MARKS) - 1) - 0.5  # each kind at its own height
            for site in _rows(replay, entry, last_site):
                marks.setdefault(mark, []).append((when(entry.time), row.get(site, 0) + 0.62 * lane))
        if entry.site is not None:
            last_site = entry.site
    for mark in MARKS:
        points = sorted(set(marks.get(mark, [])))
        if points:
            xs, ys = zip(*points)
            ax.scatter(xs, ys, marker=mark.marker, s=90 if mark.marker == "*" else 50, color=mark.colour,
                       edgecolors="#333333", linewidths=0.5, zorder=3)
    handles: list[Artist] = [Patch(color=c, label=s.lower().replace("_", " "))
                             for s, c in STATE_COLOURS.items() if any(span.state == s for span in replay.spans)]
    handles += [Line2D([], [], marker=m.marker, linestyle="none", color=m.colour, markeredgecolor="#333333",
                       markersize=8, label=m.label) for m in MARKS if m in marks]
    ax.set_yticks(range(len(sites)), [f"site {s}" for s in sites])
    ax.set_ylim(len(sites) - 0.5, -0.5)
    ax.set_xlim(when(0.0) - 1, when(end_t))
    locator = mdates.AutoDateLocator(minticks=4, maxticks=10)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    ax.set_xlabel(f"date (day 0 = {replay.scenario.start:%a %d %b %Y})")
    ax.grid(axis="x", color="#dddddd", zorder=0)
    top = ax.secondary_xaxis("top")
    days = sorted(({0: 0.0} | {replay.wd(e.time): e.time for e in replay.entries
                                 if _mark_of(e) or e.site is not None}).items())
    span_days = max(when(end_t) - when(0.0), 1.0)
    shown: list[tuple[int, float]] = []
    for wd, t in days:  # working days of the marked events, never crowded together
        if not shown or when(t) - when(shown[-1][1]) > 0.05 * span_days:
            shown.append((wd, t))
    top.set_xticks([when(t) for _, t in shown], [str(wd) for wd, _ in shown], fontsize=8)
    top.set_xlabel("working day (England and Wales) of the events", fontsize=8)
    return handles
