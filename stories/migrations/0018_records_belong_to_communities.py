"""People and withdrawals belong to communities (stories/permissions.py, RECORD_BELONGING).

A person is recorded in a community from now on: the facilitator's who adds them, or the invite's they came through.
The upgrade records for each person already here the community of their first story (by participation, else by
consent) that is not private, so that they stay with the facilitators who see them now even once no story names
them; a person only in private stories, or in none, is left to administrators, as before no facilitator could tell
which community they are of. A withdrawal keeps the community of the story it emptied, as the story's shell may go.
"""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import OuterRef, Subquery
from django.db.models.functions import Coalesce

PRIVATE = "private"


def record_communities(apps, schema_editor):
    Person = apps.get_model("stories", "Person")
    StoryParticipant = apps.get_model("stories", "StoryParticipant")
    Consent = apps.get_model("stories", "Consent")
    StoryPage = apps.get_model("stories", "StoryPage")
    Withdrawal = apps.get_model("stories", "Withdrawal")

    by_participation = (
        StoryParticipant.objects.filter(person=OuterRef("pk"), page__community__isnull=False)
        .exclude(page__visibility=PRIVATE)
        .order_by("pk")
        .values("page__community")[:1]
    )
    by_consent = (
        Consent.objects.filter(person=OuterRef("pk"), story__community__isnull=False)
        .exclude(story__visibility=PRIVATE)
        .order_by("pk")
        .values("story__community")[:1]
    )
    Person.objects.filter(community__isnull=True).update(
        community=Coalesce(Subquery(by_participation), Subquery(by_consent))
    )
    Withdrawal.objects.filter(community__isnull=True, story__isnull=False).update(
        community=Subquery(StoryPage.objects.filter(pk=OuterRef("story")).values("community")[:1])
    )


class Migration(migrations.Migration):
    dependencies = [
        ("stories", "0017_story_on_request_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="person",
            name="community",
            field=models.ForeignKey(
                blank=True,
                help_text="The community whose facilitators keep this person's record, with those of their stories.",
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="people",
                to="stories.community",
            ),
        ),
        migrations.AddField(
            model_name="withdrawal",
            name="community",
            field=models.ForeignKey(
                blank=True,
                help_text="The story's community when it was withdrawn; its facilitators see this entry.",
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="withdrawals",
                to="stories.community",
            ),
        ),
        migrations.RunPython(record_communities, migrations.RunPython.noop),
    ]
