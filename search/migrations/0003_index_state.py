"""A token and a change log for every index write, for the in-memory columns; full-text tables slimmed for ranking.

- Moments are now found by matching a page's few hundred segments in Python with the index's own stemming, so the
  per-segment full-text structures (an FTS5 table on SQLite, a tsvector column and GIN index on PostgreSQL) go.
- On SQLite the words as written, kept for prefix suggestions, move out of the story table into their own FTS5
  table: bm25 reads every matching row's columns, and the extra column made ranking a third slower.

Forward, the index's contents are carried over. Backward, the segment table comes back empty: run
`search_index rebuild` after going back.
"""

import uuid

from django.db import migrations, models

TOKENIZER = "tokenize='unicode61 remove_diacritics 2'"
SQLITE_FORWARD = [
    "DROP TABLE IF EXISTS search_segment_fts",
    f"CREATE VIRTUAL TABLE search_word_fts USING fts5(words, {TOKENIZER}, prefix='2 3')",
    "INSERT INTO search_word_fts(rowid, words) SELECT rowid, words FROM search_story_fts",
    f"CREATE VIRTUAL TABLE search_story_fts_slim USING fts5(title, body, {TOKENIZER})",
    "INSERT INTO search_story_fts_slim(rowid, title, body) SELECT rowid, title, body FROM search_story_fts",
    "DROP TABLE search_story_fts",
    "ALTER TABLE search_story_fts_slim RENAME TO search_story_fts",
]
SQLITE_BACKWARD = [
    f"CREATE VIRTUAL TABLE search_segment_fts USING fts5(text, {TOKENIZER})",
    f"CREATE VIRTUAL TABLE search_story_fts_wide USING fts5(title, body, words, {TOKENIZER}, prefix='2 3')",
    "INSERT INTO search_story_fts_wide(rowid, title, body, words) SELECT s.rowid, s.title, s.body, w.words "
    "FROM search_story_fts s LEFT JOIN search_word_fts w ON w.rowid = s.rowid",
    "DROP TABLE search_story_fts",
    "DROP TABLE search_word_fts",
    "ALTER TABLE search_story_fts_wide RENAME TO search_story_fts",
]
POSTGRES_FORWARD = ["ALTER TABLE search_segmentdocument DROP COLUMN IF EXISTS search_vector"]
POSTGRES_BACKWARD = [
    "ALTER TABLE search_segmentdocument ADD COLUMN search_vector tsvector",
    "CREATE INDEX search_segmentdocument_vector_gin ON search_segmentdocument USING gin (search_vector)",
]


def run(statements_by_vendor):
    def operation(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement)

    return operation


def first_token(apps, schema_editor):
    apps.get_model("search", "IndexState").objects.create(pk=1, token=uuid.uuid4().hex)


class Migration(migrations.Migration):
    dependencies = [("search", "0002_full_text")]

    operations = [
        migrations.CreateModel(
            name="IndexState",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("token", models.CharField(max_length=32)),
            ],
        ),
        migrations.CreateModel(
            name="IndexChange",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("token", models.CharField(help_text="The IndexState token this write set.", max_length=32)),
                ("story_id", models.IntegerField(blank=True, null=True)),
            ],
        ),
        migrations.RunPython(first_token, migrations.RunPython.noop),
        migrations.RunPython(
            run({"sqlite": SQLITE_FORWARD, "postgresql": POSTGRES_FORWARD}),
            run({"sqlite": SQLITE_BACKWARD, "postgresql": POSTGRES_BACKWARD}),
        ),
    ]
