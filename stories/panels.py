"""Panels of the story editor that are not form fields."""

from wagtail.admin.panels import Panel


class RecordingPlayerPanel(Panel):
    """The recording as uploaded, to listen to while the story is edited or reviewed, with the way to its transcript."""

    class BoundPanel(Panel.BoundPanel):
        template_name = "stories/admin/recording_player_panel.html"

        def is_shown(self):
            return bool(getattr(self.instance, "recording_id", None)) and super().is_shown()

        def get_context_data(self, parent_context=None):
            context = super().get_context_data(parent_context)
            context["story"] = self.instance
            context["media"] = self.instance.recording
            return context
