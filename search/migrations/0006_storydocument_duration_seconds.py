from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def copy_durations(apps, schema_editor):
    """Stories indexed before this field existed get their recording's length without a rebuild."""
    StoryDocument = apps.get_model("search", "StoryDocument")
    StoryPage = apps.get_model("stories", "StoryPage")
    durations = StoryPage.objects.filter(pk=OuterRef("story_id")).values("recording__duration_seconds")[:1]
    StoryDocument.objects.update(duration_seconds=Subquery(durations))


class Migration(migrations.Migration):
    dependencies = [
        ("search", "0005_index_checks"),
        ("stories", "0013_collection_entry_end"),
    ]

    operations = [
        migrations.AddField(
            model_name="storydocument",
            name="duration_seconds",
            field=models.FloatField(
                blank=True,
                help_text="How long its recording plays, for the hours of recording insights count.",
                null=True,
            ),
        ),
        migrations.RunPython(copy_durations, migrations.RunPython.noop),
    ]
