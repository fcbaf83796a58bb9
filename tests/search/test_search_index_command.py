"""`search_index rebuild` fills the index from the public stories with a progress bar; `status` reports counts."""

import io

from django.core.management import call_command

from search.models import StoryDocument
from stories.factories import public_story
from stories.models import Visibility


def test_rebuild_indexes_only_public_stories_and_shows_progress():
    shown = public_story(title="Shown")
    public_story(title="Kept private", visibility=Visibility.PRIVATE)
    out, err = io.StringIO(), io.StringIO()
    call_command("search_index", "rebuild", stdout=out, stderr=err)
    assert "Indexed 1 public story." in out.getvalue()
    assert "1/1" in err.getvalue()  # tqdm's bar
    assert list(StoryDocument.objects.values_list("story_id", flat=True)) == [shown.pk]


def test_rebuild_replaces_what_was_there(archive):
    StoryDocument.objects.filter(title="Riding the number 9 bus").update(title="stale")
    call_command("search_index", "rebuild", stdout=io.StringIO(), stderr=io.StringIO())
    assert StoryDocument.objects.filter(title="stale").count() == 0
    assert StoryDocument.objects.count() == 4


def test_status_reports_backend_and_counts(archive):
    out = io.StringIO()
    call_command("search_index", "status", stdout=out, stderr=io.StringIO())
    text = out.getvalue()
    assert "backend: database" in text
    assert "indexed stories: 4" in text
    assert "public stories: 4" in text
    assert "healthy: True" in text
