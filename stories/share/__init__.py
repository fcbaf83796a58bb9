"""Intake: invite links, the share form, resumable uploads, and the storyteller's own story page."""
