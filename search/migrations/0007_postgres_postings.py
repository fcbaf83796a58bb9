"""On PostgreSQL, the story index's postings: for each word, the stories holding it and how often, title words
weighted five times, in an index that is read without visiting the table.

Ranking a plain word reads its postings and scores them in memory (search/postings.py), as on SQLite, instead of
having ts_rank() read the tsvector of every matching story. Each story's length sits beside its tsvector for the same
score: its last word's position, which counts stop words too, as FTS5 counts a story's words. A covering index holds
what each web process loads into its in-memory columns, so loading them does not read the stories' text. SQLite
reads the first two from FTS5's own tables (migration 0004) and needs none of these.
"""

from django.db import migrations

POSTGRES_FORWARD = [
    "CREATE TABLE search_story_term (term text NOT NULL, story_id integer NOT NULL, weighted real NOT NULL, "
    "PRIMARY KEY (term, story_id) INCLUDE (weighted))",
    "ALTER TABLE search_storydocument ADD COLUMN indexed_length integer NOT NULL DEFAULT 0",
    # What each process loads into its columns (search/columns.py), read from this index alone.
    "CREATE INDEX search_storydocument_columns ON search_storydocument (story_id) INCLUDE (community, "
    "community_name, language, kind, recorded_on, published_at, generation_count, indexed_length, duration_seconds)",
    # A story's postings go with its document, however the document is deleted (a refresh, a story deleted or
    # withdrawn, a repair): they hold its words. Looked up by the words of the vector going away, as the key is
    # (term, story). A rebuild, which empties the whole table first, says so for its transaction and skips this.
    "CREATE FUNCTION search_story_term_forget() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "IF coalesce(current_setting('search.rebuilding', true), '') <> 'on' AND OLD.search_vector IS NOT NULL THEN "
    "DELETE FROM search_story_term WHERE story_id = OLD.story_id "
    "AND term = ANY(ARRAY(SELECT lexeme FROM unnest(OLD.search_vector))); END IF; RETURN OLD; END $$",
    "CREATE TRIGGER search_story_term_forget BEFORE DELETE ON search_storydocument FOR EACH ROW "
    "EXECUTE FUNCTION search_story_term_forget()",
    # Postings of the stories indexed before this migration, so no rebuild is needed.
    "INSERT INTO search_story_term (term, story_id, weighted) SELECT lexeme, story_id, "
    "(SELECT sum(CASE WHEN weight = 'A' THEN 5 ELSE 1 END) FROM unnest(weights) AS weight) "
    "FROM search_storydocument, unnest(search_vector) WHERE search_vector IS NOT NULL",
    "UPDATE search_storydocument SET indexed_length = "
    "(SELECT coalesce(max(position), 0) FROM unnest(search_vector), unnest(positions) AS position) WHERE search_vector IS NOT NULL",
]
POSTGRES_BACKWARD = [
    "DROP TRIGGER IF EXISTS search_story_term_forget ON search_storydocument",
    "DROP FUNCTION IF EXISTS search_story_term_forget()",
    "DROP TABLE IF EXISTS search_story_term",
    "ALTER TABLE search_storydocument DROP COLUMN IF EXISTS indexed_length",
]


def create_postings(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in POSTGRES_FORWARD:
            schema_editor.execute(statement)


def drop_postings(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in POSTGRES_BACKWARD:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("search", "0006_storydocument_duration_seconds")]

    operations = [migrations.RunPython(create_postings, drop_postings)]
