"""``report.html`` for a replay: the timeline, every DUIS exchange linked to its XML files,
each HAN join with its pcap and outcome, and the expectations met or not, in one page."""

from __future__ import annotations

from matplotlib.figure import Figure

from sim.html import inline_svg
from sim.html import render as render_page
from sim.replay import report
from sim.replay.story import Replay


def render(replay: Replay, found: list[report.Check], validation: dict, figure: Figure,
           plot_file: str = "timeline.png") -> str:
    """The page, linking to the files :func:`sim.replay.report.files` writes beside it."""
    names = iter(report.duis_files(replay))
    exchanges = [{"step": r.step, "date": replay.moment(r.time).strftime("%Y-%m-%d %H:%M"),
                  "wd": replay.wd(r.time), "actor": r.actor, "srv": r.srv, "summary": r.summary,
                  "documents": [(name, next(names)) for name, _ in r.documents]}
                 for r in replay.requests]
    joins = [{"device": r.device_id, "joined": r.result.joined, "reason": r.result.reason,
              "frames": len(r.report.frames) if r.report else None, "seconds": r.duration, "pcap": pcap}
             for r, pcap in zip(replay.joins.records, report.pcap_files(replay))]
    return render_page("replay.html", title=f"hansim replay: {replay.scenario.name}",
                       s=report.summary(replay, found, validation), checks=found,
                       failed=sum(not c.ok for c in found), start=f"{replay.scenario.start:%A %d %B %Y}",
                       figure=inline_svg(figure, f"timeline of {replay.scenario.name}"), plot_file=plot_file,
                       timeline=report.timeline_rows(replay), exchanges=exchanges, joins=joins,
                       premises_pcap=report.PREMISES_PCAP if any(j["pcap"] for j in joins) else None,
                       validation_text=_validation_text(validation))


def _validation_text(validation: dict) -> str:
    if not validation["validated"]:
        return f"Not validated: {validation['reason']}."
    bad = validation["invalid"]
    verdict = "all valid" if not bad else f"{len(bad)} invalid: " + ", ".join(bad)
    return (f"{validation['documents']} documents checked against {validation['schema']} "
            f"(SHA-256 {validation['schema_sha256'][:16]}...): {verdict}.")


def render_street(street: dict, figure: Figure, plot_file: str = "timeline.png") -> str:
    """The street's own page: every premises' timeline on one calendar, and for each premises
    its HAN, its verdict and a link to its own report in its folder."""
    return render_page("street.html", title=f"hansim replay: {street['scenario']}", s=street,
                       failed=sum(not p["ok"] for p in street["premises"]),
                       figure=inline_svg(figure, f"timelines of {street['scenario']}"), plot_file=plot_file)
