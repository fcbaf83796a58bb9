"""The load benchmark judges its goals from locust's figures: errors, search p95 and the worker's queue."""

from bench.common import PartResult
from bench.load import add_figures


def judged(requests: dict, *, failures: int = 0, backlog=(0, 0, 1)) -> dict[str, bool | None]:
    result = PartResult(part="load", quick=True, started="now")
    count = sum(entry["count"] for entry in requests.values())
    add_figures(
        result,
        {
            "requests": requests,
            "total": {"count": count, "failures": failures},
            "errors": [],
            "page_cache": {"hit": 3, "miss": 1},
            "submitted_at": [5.0],
        },
        backlog=backlog,
        transcribed_during=1,
        drained=None,
        run_seconds=60,
        quiet_seconds=20,
        web_workers=5,
    )
    return {figure.measure: figure.goal_met for figure in result.figures if figure.goal}


def entry(p95: float, count: int = 100) -> dict:
    return {"method": "GET", "count": count, "failures": 0, "p50_ms": p95 / 2, "p95_ms": p95, "p99_ms": p95}


def test_a_quick_run_without_errors_meets_every_goal():
    goals = judged({"search page": entry(120), "/api/search": entry(80), "home": entry(900)})
    assert goals == {
        "error rate, every request": True,
        "search page: p95": True,
        "/api/search: p95": True,
        "recordings waiting for the worker at the end": True,
    }


def test_slow_searches_miss_the_search_goal_but_slow_pages_are_not_judged():
    goals = judged({"search page": entry(450), "/api/search": entry(80), "home": entry(5000)})
    assert goals["search page: p95"] is False
    assert goals["/api/search: p95"] is True
    assert "home: p95" not in goals


def test_one_failure_in_a_hundred_misses_the_error_goal():
    assert judged({"home": entry(10, count=100)}, failures=1)["error rate, every request"] is False
    assert judged({"home": entry(10, count=1000)}, failures=9)["error rate, every request"] is True


def test_a_queue_longer_at_the_end_than_at_the_start_misses_the_worker_goal():
    assert judged({"home": entry(10)}, backlog=(0, 2, 3))["recordings waiting for the worker at the end"] is False
