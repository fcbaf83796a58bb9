"""Facilitators work within communities; everyone already in the Facilitators group keeps every community they had."""

from django.conf import settings
from django.db import migrations, models

FACILITATORS = "Facilitators"


def place_facilitators_in_every_community(apps, schema_editor):
    """Before communities had facilitators, every facilitator worked on every story: keep it so on upgrade."""
    Community = apps.get_model("stories", "Community")
    User = apps.get_model(*settings.AUTH_USER_MODEL.split("."))
    facilitators = list(User.objects.filter(groups__name=FACILITATORS).distinct())
    for community in Community.objects.all():
        community.facilitators.add(*facilitators)


class Migration(migrations.Migration):
    dependencies = [
        ("stories", "0015_access_requests"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="community",
            name="facilitators",
            field=models.ManyToManyField(
                blank=True,
                help_text="Members of the Facilitators group who see, edit, review and publish this community's "
                "stories.",
                limit_choices_to={"groups__name": "Facilitators", "is_active": True},
                related_name="facilitated_communities",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.RunPython(place_facilitators_in_every_community, migrations.RunPython.noop),
    ]
