"""Reactions to what the stories app announces: a stored recording gets a transcript queued."""

from stories.models import StoryMedia

from .services import transcript_request


def recording_stored_queue_transcript(sender, *, media_id, **kwargs) -> None:
    media = StoryMedia.objects.filter(pk=media_id).first()
    if media is not None:
        transcript_request(media=media)
