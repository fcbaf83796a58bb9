"""The tally hands a quiet process's counts to the worker after a while, without waiting for more beacons."""

import threading

from audience import tally

from .conftest import send_beacon


class HandedOver:
    """Stands in for the record_figures task: keeps what it was given and says when."""

    def __init__(self):
        self.batches: list[dict] = []
        self.arrived = threading.Event()

    def enqueue(self, **batch):
        self.batches.append(batch)
        self.arrived.set()


def test_counts_are_handed_over_after_the_wait_even_if_no_other_beacon_comes(
    client, heard_story, settings, monkeypatch
):
    handed = HandedOver()
    monkeypatch.setattr("audience.tasks.record_figures", handed)
    settings.AUDIENCE_FLUSH_SECONDS = 0.05

    assert send_beacon(client, {"story": heard_story.pk, "stretches": [1, 2], "play": True}).status_code == 202

    assert handed.arrived.wait(timeout=30), "the timer never handed the counts over"
    assert handed.batches == [
        {"listening": [[heard_story.pk, handed.batches[0]["listening"][0][1], 1, 2]],
         "stretches": [[heard_story.pk, 1, 1], [heard_story.pk, 2, 1]],
         "searches": []}
    ]  # fmt: skip
    assert tally.pending() == 0


def test_nothing_is_handed_over_when_nothing_was_counted(monkeypatch):
    handed = HandedOver()
    monkeypatch.setattr("audience.tasks.record_figures", handed)
    assert tally.flush() is False
    assert handed.batches == []
