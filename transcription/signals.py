"""Events the transcription app announces. The search app listens; transcription never imports search."""

from django.dispatch import Signal

# A transcript finished or a facilitator corrected it. Sent on commit with transcript_id and media_id.
transcript_ready = Signal()
# A passage of a written story was redacted or its redaction undone. Sent on commit with story_id.
written_text_redacted = Signal()
