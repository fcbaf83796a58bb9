"""Full-text columns beside the index tables: FTS5 on SQLite, tsvector + GIN on PostgreSQL."""

from django.db import migrations

SQLITE_FORWARD = [
    # rowid is the story's id. Columns hold stemmed words (stemmed in Python with the story's own language) except
    # `words`, which keeps them as written for prefix suggestions.
    "CREATE VIRTUAL TABLE search_story_fts USING fts5("
    "title, body, words, tokenize='unicode61 remove_diacritics 2', prefix='2 3')",
    # rowid is the SegmentDocument's id.
    "CREATE VIRTUAL TABLE search_segment_fts USING fts5(text, tokenize='unicode61 remove_diacritics 2')",
]
SQLITE_BACKWARD = ["DROP TABLE IF EXISTS search_story_fts", "DROP TABLE IF EXISTS search_segment_fts"]

POSTGRES_FORWARD = [
    "ALTER TABLE search_storydocument ADD COLUMN search_vector tsvector, ADD COLUMN words tsvector",
    "CREATE INDEX search_storydocument_vector_gin ON search_storydocument USING gin (search_vector)",
    "CREATE INDEX search_storydocument_words_gin ON search_storydocument USING gin (words)",
    "ALTER TABLE search_segmentdocument ADD COLUMN search_vector tsvector",
    "CREATE INDEX search_segmentdocument_vector_gin ON search_segmentdocument USING gin (search_vector)",
]
POSTGRES_BACKWARD = [
    "ALTER TABLE search_storydocument DROP COLUMN IF EXISTS search_vector, DROP COLUMN IF EXISTS words",
    "ALTER TABLE search_segmentdocument DROP COLUMN IF EXISTS search_vector",
]


def statements_for(vendor, forward):
    if vendor == "sqlite":
        return SQLITE_FORWARD if forward else SQLITE_BACKWARD
    if vendor == "postgresql":
        return POSTGRES_FORWARD if forward else POSTGRES_BACKWARD
    return []


def create_full_text(apps, schema_editor):
    for statement in statements_for(schema_editor.connection.vendor, forward=True):
        schema_editor.execute(statement)


def drop_full_text(apps, schema_editor):
    for statement in statements_for(schema_editor.connection.vendor, forward=False):
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("search", "0001_index_tables")]

    operations = [migrations.RunPython(create_full_text, drop_full_text)]
