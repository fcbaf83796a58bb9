"""Each event that can change what the public sees queues a refresh on commit, and the refresh follows the rule."""

from search.backends import get_search_backend
from search.models import SegmentDocument, StoryDocument
from search.query import StoryQuery
from search.tasks import refresh_story_index
from stories.factories import public_story, theme
from stories.models import Theme, Visibility
from stories.signals import story_visibility_changed
from transcription.signals import transcript_ready

from .conftest import transcribe


def found(text):
    return [hit.story.pk for hit in get_search_backend().search(StoryQuery(text=text)).hits]


def test_publishing_a_story_indexes_it_once_the_transaction_commits(django_capture_on_commit_callbacks):
    story = public_story(title="Harvest festival")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        story.save_revision().publish()
    assert not StoryDocument.objects.filter(pk=story.pk).exists()  # nothing before commit
    for callback in callbacks:
        callback()
    assert found("harvest") == [story.pk]


def test_unpublishing_removes_it(django_capture_on_commit_callbacks):
    story = public_story(title="Harvest festival")
    refresh_story_index.enqueue(story.pk)
    with django_capture_on_commit_callbacks(execute=True):
        story.unpublish()
    assert not StoryDocument.objects.filter(pk=story.pk).exists()


def test_deleting_a_story_removes_it_and_its_segments(django_capture_on_commit_callbacks):
    story = public_story(title="Harvest festival")
    transcribe(story, [(1.0, 2.0, "The harvest came early.")])
    refresh_story_index.enqueue(story.pk)
    assert SegmentDocument.objects.filter(document_id=story.pk).count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        story.delete()
    assert StoryDocument.objects.count() == 0
    assert SegmentDocument.objects.count() == 0
    assert found("harvest") == []


def test_a_visibility_change_refreshes_the_story(django_capture_on_commit_callbacks):
    story = public_story(title="Harvest festival")
    refresh_story_index.enqueue(story.pk)
    story.visibility = Visibility.PRIVATE
    story.save(update_fields=["visibility"])
    with django_capture_on_commit_callbacks(execute=True):
        story_visibility_changed.send(sender=None, story_id=story.pk)
    assert not StoryDocument.objects.filter(pk=story.pk).exists()


def test_a_finished_or_corrected_transcript_gives_new_moments(django_capture_on_commit_callbacks):
    story = public_story(title="Harvest festival")
    refresh_story_index.enqueue(story.pk)
    transcript = transcribe(story, [(42.0, 45.0, "We picked apples by the river.")])
    assert found("apples") == []
    with django_capture_on_commit_callbacks(execute=True):
        transcript_ready.send(sender=None, transcript_id=transcript.pk, media_id=story.recording_id)
    [hit] = get_search_backend().search(StoryQuery(text="apples")).hits
    assert [m.start for m in hit.moments] == [42.0]

    segment = transcript.segments.get()
    segment.text = "We picked pears by the river."
    segment.save()
    with django_capture_on_commit_callbacks(execute=True):
        transcript_ready.send(sender=None, transcript_id=transcript.pk, media_id=story.recording_id)
    assert found("apples") == []
    assert found("pears") == [story.pk]


def test_the_task_takes_only_an_id():
    story = public_story(title="Harvest festival")
    result = refresh_story_index.enqueue(story.pk)
    assert result.return_value == "indexed"
    assert refresh_story_index.enqueue(999999).return_value == "removed"


def facet_labels(facet):
    results = get_search_backend().search(StoryQuery())
    return {value.value: value.label for value in results.facets[facet]}


def test_renaming_a_theme_refreshes_its_stories_labels(django_capture_on_commit_callbacks):
    story = public_story(title="Harvest festival", themes=[theme("basic-needs")])
    refresh_story_index.enqueue(story.pk)
    housing = Theme.objects.get(slug="basic-needs")
    with django_capture_on_commit_callbacks(execute=True):
        housing.name = "Food, water and shelter"
        housing.save()
    assert facet_labels("theme")["basic-needs"] == "Food, water and shelter"


def test_renaming_a_community_refreshes_its_stories(django_capture_on_commit_callbacks):
    story = public_story(title="Harvest festival", community__name="Riverside")
    refresh_story_index.enqueue(story.pk)
    community = story.community
    with django_capture_on_commit_callbacks(execute=True):
        community.name, community.slug = "Riverside Heights", "riverside-heights"
        community.save()
    assert facet_labels("community") == {"riverside-heights": "Riverside Heights"}
    assert found("heights") == [story.pk]


def test_saving_a_theme_unchanged_queues_nothing(django_capture_on_commit_callbacks):
    story = public_story(title="Harvest festival", themes=[theme("basic-needs")])
    refresh_story_index.enqueue(story.pk)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        Theme.objects.get(slug="basic-needs").save()
    # The page cache forgets its pages on any save of the archive's content; nothing else is queued.
    assert [callback for callback in callbacks if callback.__module__ != "stories.page_cache"] == []
