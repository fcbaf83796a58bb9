from django.apps import AppConfig


class TranscriptionConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "transcription"

    def ready(self):
        from stories.routes import register_story_route
        from stories.signals import recording_stored

        from . import views
        from .receivers import recording_stored_queue_transcript

        recording_stored.connect(recording_stored_queue_transcript, dispatch_uid="transcription.recording_stored")
        register_story_route("transcript.vtt", views.transcript_webvtt)
        register_story_route("transcript.srt", views.transcript_srt)
        register_story_route("transcript.txt", views.transcript_text)
