"""On SQLite, a read-only view of the story index's terms: for one word, every story holding it and in which column.

Ranking a word reads its postings from here and scores them in memory (search/postings.py) instead of asking FTS5's
bm25() to score every matching row. An fts5vocab table stores nothing of its own; PostgreSQL needs none.
"""

from django.db import migrations


def create_terms(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute("CREATE VIRTUAL TABLE search_story_terms USING fts5vocab(search_story_fts, instance)")


def drop_terms(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute("DROP TABLE search_story_terms")


class Migration(migrations.Migration):
    dependencies = [("search", "0003_index_state")]

    operations = [migrations.RunPython(create_terms, drop_terms)]
