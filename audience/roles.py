"""Who may read the figures: the Facilitators group, and whoever an administrator gives the permission."""

from django.contrib.auth.models import Group, Permission

from stories.roles import FACILITATORS

FIGURES_PERMISSION = "audience.view_figures"


def grant_facilitators_figures(**kwargs) -> None:
    """Give the Facilitators group the figures permission; safe to run after every migrate."""
    group = Group.objects.filter(name=FACILITATORS).first()
    permission = Permission.objects.filter(content_type__app_label="audience", codename="view_figures").first()
    if group is not None and permission is not None:
        group.permissions.add(permission)
