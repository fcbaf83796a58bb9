from django.db import migrations, models
from django.utils.text import slugify


def give_every_dialogue_a_slug(apps, schema_editor):
    """Each dialogue gets its public address from its title; titles that make the same slug are numbered."""
    Dialogue = apps.get_model("stories", "Dialogue")
    taken = set()
    for dialogue in Dialogue.objects.order_by("pk"):
        base = slugify(dialogue.title)[:192].strip("-") or "dialogue"
        slug, n = base, 1
        while slug in taken:
            n += 1
            slug = f"{base}-{n}"
        taken.add(slug)
        dialogue.slug = slug
        dialogue.save(update_fields=["slug"])


class Migration(migrations.Migration):
    dependencies = [("stories", "0010_public_answer")]

    operations = [
        migrations.AddField(
            model_name="dialogue",
            name="slug",
            field=models.SlugField(blank=True, default="", max_length=200, db_index=False),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="dialogue",
            name="questions",
            field=models.TextField(blank=True, help_text="The questions asked at the dialogue, one a line."),
        ),
        migrations.RunPython(give_every_dialogue_a_slug, migrations.RunPython.noop),
    ]
