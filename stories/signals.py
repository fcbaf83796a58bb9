"""Events the stories app announces. Higher apps (transcription, search) listen; stories never imports them."""

from django.dispatch import Signal

# A recording was stored and needs its access copy and transcript. Sent on commit with media_id.
recording_stored = Signal()

# Something the visibility rule reads changed for a story (stories/receivers.py sends it for every input). Sent on
# commit with story_id: the story may now be shown, or may have been hidden, and every copy of the rule's answer
# catches up (showing may wait).
story_visibility_changed = Signal()

# The rule now hides these stories. Sent at once, inside the transaction that hid them, with story_ids (a frozenset):
# every copy of the rule's answer (search index, caches) forgets them before the response (hiding is synchronous).
stories_hidden = Signal()

# A story was withdrawn: its recording row is gone and every derived file and text must go too. Sent on commit with
# story_id and media_id (None for a written story). The transcription app deletes captions and transcript text.
story_withdrawn = Signal()
