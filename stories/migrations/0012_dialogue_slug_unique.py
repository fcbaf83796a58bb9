from django.db import migrations, models


class Migration(migrations.Migration):
    # Apart from 0011, so PostgreSQL alters the table in a transaction that has not just written its rows.
    dependencies = [("stories", "0011_dialogue_slug_and_questions")]

    operations = [
        migrations.AlterField(
            model_name="dialogue",
            name="slug",
            field=models.SlugField(
                blank=True,
                help_text="Its public address, /dialogues/<slug>/; made from the title.",
                max_length=200,
                unique=True,
            ),
        ),
    ]
