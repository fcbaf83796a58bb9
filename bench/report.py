"""Print the figures as a table and write docs/benchmarks.md from the latest saved result of every part."""

from pathlib import Path

from bench.common import REPOSITORY, RESULTS, Figure, PartResult
from bench.machine import describe

DOCUMENT = REPOSITORY / "docs" / "benchmarks.md"
# Observations a person made while running the benchmarks, kept in the repository so a rerun does not drop them.
READING_NOTES = REPOSITORY / "bench" / "reading-notes.md"
ORDER = ["transcription", "pages", "throughput", "upload", "sharing", "search", "insights", "load"]


def number(value: float | None) -> str:
    if value is None:
        return "not measured"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}"


def amount(value: float | None, unit: str) -> str:
    return f"{number(value)} {unit}" if value is not None else number(value)


def ratio_text(figure: Figure) -> str:
    if figure.ratio is None:
        return ""
    return f"{figure.ratio:.2f}"


def goal_text(figure: Figure) -> str:
    if not figure.goal:
        return ""
    verdict = {True: "met", False: "missed", None: "not judged"}[figure.goal_met]
    return f"{figure.goal}: {verdict}"


def rows(result: PartResult) -> list[list[str]]:
    return [
        [
            figure.benchmark,
            figure.measure,
            amount(figure.ours, figure.unit),
            f"{amount(figure.peer, figure.unit)} ({figure.peer_name})" if figure.peer is not None else "",
            ratio_text(figure),
            str(figure.runs),
            goal_text(figure),
        ]
        for figure in result.figures
    ]


HEADER = ["Benchmark", "Measure", "Ours", "Peer", "Ours / peer", "Runs", "Goal"]


def print_table(result: PartResult) -> None:
    table = [HEADER, *rows(result)]
    widths = [max(len(row[i]) for row in table) for i in range(len(HEADER))]
    print(f"\n{result.part} ({'quick' if result.quick else 'full'} run, {result.seconds:.0f} s)")
    for row in table:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
    for item in result.not_measured:
        print(f"not measured: {item}")


def kept_from_document(document: str) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Each part's section and Goals rows as the document has them. Saved results live under var/, which a fresh
    clone lacks: a part with none keeps what the document says, so a one-part run there drops no other part."""
    sections: dict[str, list[str]] = {}
    goal_rows: dict[str, list[str]] = {}
    heading = None
    for line in document.splitlines():
        if line.startswith("## "):
            heading = line[3:].strip().lower()
            if heading in ORDER:
                sections[heading] = []
        if heading in sections:
            sections[heading].append(line)
        elif heading == "goals" and line.startswith("| ") and line.split(" | ")[0][2:] in ORDER:
            goal_rows.setdefault(line.split(" | ")[0][2:], []).append(line)
    return sections, goal_rows


def write_document() -> Path:
    """Rebuild the whole document, so a one-part run keeps every other part's last figures."""
    machine = describe()
    kept_sections, kept_goals = kept_from_document(DOCUMENT.read_text() if DOCUMENT.exists() else "")
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`python -m bench`); do not edit by hand. Each figure is the median of the runs",
        "shown, and the peer beside it was measured in the same run as ours (for search, in a pass of its own just",
        "after). Nothing here is asserted by a test: these are measurements, and on a shared machine they move from",
        "run to run.",
        "",
        "## Machine",
        "",
        f"- CPU: {machine['cpu']}",
        f"- Cores available: {machine['cores']}",
        f"- Memory: {machine['memory']}",
        f"- System: {machine['os']}, Python {machine['python']}",
        "",
    ]
    saved = {part: PartResult.load(RESULTS / f"{part}.json") for part in ORDER if (RESULTS / f"{part}.json").exists()}
    goals = []
    for part in ORDER:
        if part not in saved:
            goals += kept_goals.get(part, [])
            continue
        goals += [
            f"| {part} | {figure.benchmark} | {figure.measure} | {amount(figure.ours, figure.unit)} | "
            f"{ratio_text(figure)} | {goal_text(figure)} |"
            for figure in saved[part].figures
            if figure.goal
        ]
    if goals:
        lines += [
            "## Goals",
            "",
            "| Part | Benchmark | Measure | Ours | Ours / peer | Goal |",
            "| --- | --- | --- | --- | --- | --- |",
            *goals,
            "",
        ]
    lines += [
        "Run it again with `make bench` (everything) or `.venv/bin/python -m bench "
        + "|".join(ORDER)
        + " [--quick]`; a one-part run refreshes only that part's section below.",
        "",
    ]
    for part in ORDER:
        path = RESULTS / f"{part}.json"
        if not path.exists() and part in kept_sections:
            lines += [*kept_sections[part]]
            continue
        lines += [f"## {part.capitalize()}", ""]
        if not path.exists():
            lines += ["Not measured yet: run `python -m bench " + part + "`.", ""]
            continue
        result = saved[part]
        mode = "quick run (smaller, fewer repetitions)" if result.quick else "full run"
        load = f" 1-minute load average {result.machine_load}." if result.machine_load else ""
        lines += [f"Measured {result.started}, {mode}, {result.seconds:.0f} s.{load}", ""]
        if result.findings:
            lines += ["Where we are ahead, where we are behind, and why:", ""]
            lines += [*[f"- {finding}" for finding in result.findings], ""]
        if result.figures:
            lines += ["| " + " | ".join(HEADER) + " |", "|" + " --- |" * len(HEADER)]
            lines += ["| " + " | ".join(row) + " |" for row in rows(result)]
            lines.append("")
        notes = [f"- {figure.benchmark}, {figure.measure}: {figure.note}" for figure in result.figures if figure.note]
        if notes:
            lines += ["Notes:", "", *notes, ""]
        if result.not_measured:
            lines += ["Not measured:", "", *[f"- {item}" for item in result.not_measured], ""]
    if READING_NOTES.exists():
        lines += ["## Reading these figures", "", READING_NOTES.read_text().strip(), ""]
    DOCUMENT.parent.mkdir(parents=True, exist_ok=True)
    DOCUMENT.write_text("\n".join(lines).rstrip() + "\n")
    return DOCUMENT
