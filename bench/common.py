"""What every benchmark part shares: the scratch folder, medians and percentiles, rows of figures, child processes."""

import json
import os
import statistics
import subprocess
import sys
import time
import urllib.parse
from dataclasses import asdict, dataclass, field
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
# Everything a benchmark writes lives here: /var/ is ignored by git and never holds the developer's database.
SCRATCH = REPOSITORY / "var" / "bench"
RESULTS = SCRATCH / "results"
PROJECT_PYTHON = REPOSITORY / ".venv" / "bin" / "python"


@dataclass
class Figure:
    """One measured figure: ours beside its peer from the same run, each the median of its runs."""

    benchmark: str
    measure: str
    unit: str
    ours: float | None
    peer: float | None = None
    peer_name: str = ""
    runs: int = 1
    lower_is_better: bool = True
    goal: str = ""
    goal_met: bool | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.ours is None or not self.peer:
            return None
        return self.ours / self.peer


@dataclass
class PartResult:
    """A part's figures and what it could not measure, saved so a one-part run refreshes only its own section."""

    part: str
    quick: bool
    started: str
    seconds: float = 0.0
    machine_load: str = ""
    figures: list[Figure] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)
    not_measured: list[str] = field(default_factory=list)

    def save(self) -> Path:
        RESULTS.mkdir(parents=True, exist_ok=True)
        path = RESULTS / f"{self.part}.json"
        path.write_text(json.dumps(asdict(self), indent=1))
        return path

    @classmethod
    def load(cls, path: Path) -> "PartResult":
        raw = json.loads(path.read_text())
        raw["figures"] = [Figure(**figure) for figure in raw["figures"]]
        return cls(**raw)


def load_average() -> str:
    """The 1-minute load average: on a shared machine it says how noisy a figure may be."""
    return open("/proc/loadavg").read().split()[0]


def median(values: list[float]) -> float:
    return statistics.median(values)


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile, so the figure is a latency that was actually observed."""
    ordered = sorted(values)
    rank = max(int(round(fraction * len(ordered) + 0.5)) - 1, 0)
    return ordered[min(rank, len(ordered) - 1)]


def run_json(command: list[str], *, timeout: float, env: dict[str, str] | None = None, cwd: Path = REPOSITORY) -> dict:
    """Run a child that prints one JSON line last; its stderr goes to the log so failures can be read afterwards."""
    SCRATCH.mkdir(parents=True, exist_ok=True)
    with open(SCRATCH / "children.log", "a") as log:
        log.write(f"\n$ {' '.join(map(str, command))}\n")
        log.flush()
        completed = subprocess.run(
            [str(part) for part in command],
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            timeout=timeout,
            env={**os.environ, **(env or {})},
            cwd=cwd,
            check=False,
        )
    if completed.returncode != 0:
        raise RuntimeError(f"{command[1] if len(command) > 1 else command[0]} failed; see {SCRATCH / 'children.log'}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def scratch_postgres(url: str, action: str) -> str | None:
    """Create (afresh), ensure (create if missing) or drop a bench's own PostgreSQL database; None on success, else
    why not."""
    import psycopg

    parts = urllib.parse.urlsplit(url)
    name = parts.path.lstrip("/")
    if not name.startswith("bench"):
        return f"the bench's PostgreSQL database is {name!r}: the bench drops it, so its name must begin with bench"
    server = urllib.parse.urlunsplit(parts._replace(scheme="postgresql", path="/postgres"))
    try:
        with psycopg.connect(server, autocommit=True, connect_timeout=10) as connection:
            if action == "ensure":
                if not connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
                    connection.execute(f'CREATE DATABASE "{name}"')
                return None
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            if action == "create":
                connection.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as error:
        return f"PostgreSQL at {parts.hostname}:{parts.port or 5432} could not {action} {name}: {error}"
    return None


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# The insights benches' filters, as the query string the insights addresses and /api/search take
# (search.api.SearchParams): the words' figures sit beside the insights' own.
FILTERS = {
    "no filter": {},
    "a theme": {"theme": "humane-housing"},
    "a generation": {"generation": "boomers"},
    "a community": {"community": "bench-0"},
    "a query": {"q": "housing"},
    "a date range": {"recorded_from": "2020-01-01", "recorded_to": "2024-12-31"},
    "a query, a community and dates": {"q": "housing", "community": "bench-0", "recorded_from": "2020-01-01"},
}
