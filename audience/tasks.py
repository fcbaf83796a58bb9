"""Thin tasks: a batch of counts to write, and the daily prune of old searches that found nothing."""

from django_tasks import task


@task()
def record_figures(*, listening: list, stretches: list, searches: list) -> int:
    from .services import figures_record

    figures_record(listening=listening, stretches=stretches, searches=searches)
    return len(listening) + len(stretches) + len(searches)


@task()
def prune_zero_result_searches() -> int:
    from .services import zero_result_searches_prune

    return zero_result_searches_prune()
