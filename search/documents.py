"""The Elasticsearch mapping: one document per public story, its transcript segments nested inside.

Elasticsearch is sent words already read by search/analysis.py: the Snowball stems of the story's language, folded
to lower case without accents, the same words the database backend indexes. It only splits them on spaces (the
`whitespace` analyzer, built into every Elasticsearch), so both backends match a query the same way, and the
index needs no analysis plugin: Elastic's distribution on Maven Central has no analysis-common module, where the
english and spanish analyzers, the stemmers and asciifolding live. The text as written is kept, unindexed, for
snippets and moments, which search/analysis.py highlights on every backend.
"""

from elasticsearch.dsl import Date, Document, Float, InnerDoc, Integer, Keyword, Nested, Text

from .analysis import fold, stemmed_text, words

STEMS = "whitespace"


class SegmentInner(InnerDoc):
    position = Integer()
    start = Float()
    end = Float()
    text = Text(index=False)
    stems = Text(analyzer=STEMS)


class StoryIndexDocument(Document):
    """What Elasticsearch holds about one story the public may see."""

    story_id = Integer()
    # Stems, matched and scored: the title, and the rest as the database backend's body column holds it (summary,
    # written story, transcript, theme and community names), so a phrase reads the same words in the same order.
    title_stems = Text(analyzer=STEMS)
    body_stems = Text(analyzer=STEMS)
    # As written, for the snippet.
    summary = Text(index=False)
    body = Text(index=False)
    segments = Nested(SegmentInner)
    # Facets, filters and sorting.
    analyzer = Keyword()
    language = Keyword()
    kind = Keyword()
    community = Keyword()
    themes = Keyword()
    generations = Keyword()
    generation_count = Integer()
    recorded_on = Date()
    published_at = Date()
    # How long the recording plays, summed for the hours of recording insights count.
    duration_seconds = Float()
    # Every word as written, folded, for prefix suggestions.
    words = Keyword()

    class Index:
        name = "storyarchive-stories"  # replaced per prefix; see ElasticsearchBackend.index_name


def story_document(story) -> dict:
    """An IndexedStory as the JSON body Elasticsearch stores."""
    searchable = " ".join([story.body, story.transcript, *(name for _, name in story.themes), story.community_name])
    everything = " ".join([story.title, story.summary, searchable])
    return {
        "story_id": story.id,
        "title_stems": stemmed_text(story.title, story.analyzer),
        "body_stems": stemmed_text(f"{story.summary} {searchable}", story.analyzer),
        "summary": story.summary,
        "body": story.body,
        "segments": [
            {
                "position": s.position,
                "start": s.start,
                "end": s.end,
                "text": s.text,
                "stems": stemmed_text(s.text, story.analyzer),
            }
            for s in story.segments
        ],
        "analyzer": story.analyzer,
        "language": story.language,
        "kind": story.kind,
        "community": story.community,
        "themes": [slug for slug, _ in story.themes],
        "generations": [slug for slug, _ in story.generations],
        "generation_count": story.generation_count,
        "recorded_on": story.recorded_on.isoformat() if story.recorded_on else None,
        "published_at": story.published_at.isoformat() if story.published_at else None,
        "duration_seconds": story.duration_seconds,
        "words": sorted({fold(word) for word in words(everything)}),
    }
