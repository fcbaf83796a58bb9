"""Events the stories app announces. Higher apps (transcription, search) listen; stories never imports them."""

from django.dispatch import Signal

# A recording was stored and needs its access copy and transcript. Sent on commit with media_id.
recording_stored = Signal()

# Something that decides public visibility changed outside a page publish: consent given or withdrawn, a story
# withdrawn or its embargo lifted. Sent on commit with story_id.
story_visibility_changed = Signal()

# A story was withdrawn: its recording row is gone and every derived file and text must go too. Sent on commit with
# story_id and media_id (None for a written story). The transcription app deletes captions and transcript text.
story_withdrawn = Signal()
