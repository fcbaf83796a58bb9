"""A withdrawn story leaves every bag the admin has written: those bags are deleted from the server."""

from django.dispatch import receiver

from stories.signals import story_withdrawn


@receiver(story_withdrawn, dispatch_uid="preservation_bags_forget_withdrawn_story")
def forget_withdrawn_story(sender, story_id, **kwargs):
    from .services import bags_forget_story

    bags_forget_story(story_id=story_id)
