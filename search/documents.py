"""The Elasticsearch mapping: one document per public story, its transcript segments nested inside.

Text goes into the field of its own language (title_english, title_spanish or title_default), so "housing" finds
"houses" in English stories and "viviendas" finds "vivienda" in Spanish ones without either stemmer touching the other.
"""

from elasticsearch.dsl import Date, Document, Float, InnerDoc, Integer, Keyword, Nested, Text, analyzer

from .analysis import DEFAULT_ANALYZER, QUERY_ANALYZERS, fold, words

# Elasticsearch's built-in english and spanish analyzers stem; the default one only folds case and accents.
default_text = analyzer("story_default", tokenizer="standard", filter=["lowercase", "asciifolding"])
ANALYZER_FOR = {"english": "english", "spanish": "spanish", DEFAULT_ANALYZER: default_text}
FIELD_SUFFIX = {"english": "english", "spanish": "spanish", DEFAULT_ANALYZER: "default"}


def language_fields(name: str) -> list[str]:
    return [f"{name}_{FIELD_SUFFIX[a]}" for a in QUERY_ANALYZERS]


def field_for(name: str, story_analyzer: str) -> str:
    return f"{name}_{FIELD_SUFFIX[story_analyzer]}"


class SegmentInner(InnerDoc):
    position = Integer()
    start = Float()
    end = Float()
    text_english = Text(analyzer="english")
    text_spanish = Text(analyzer="spanish")
    text_default = Text(analyzer=default_text)


class StoryIndexDocument(Document):
    """What Elasticsearch holds about one story the public may see."""

    story_id = Integer()
    title_english = Text(analyzer="english")
    title_spanish = Text(analyzer="spanish")
    title_default = Text(analyzer=default_text)
    summary_english = Text(analyzer="english")
    summary_spanish = Text(analyzer="spanish")
    summary_default = Text(analyzer=default_text)
    # The written story, theme and community names.
    content_english = Text(analyzer="english")
    content_spanish = Text(analyzer="spanish")
    content_default = Text(analyzer=default_text)
    # The whole transcript at story level, so every word of a query can match across segments.
    transcript_english = Text(analyzer="english")
    transcript_spanish = Text(analyzer="spanish")
    transcript_default = Text(analyzer=default_text)
    segments = Nested(SegmentInner)
    # Facets and filters.
    analyzer = Keyword()
    language = Keyword()
    kind = Keyword()
    community = Keyword()
    themes = Keyword()
    generations = Keyword()
    generation_count = Integer()
    recorded_on = Date()
    published_at = Date()
    # Every word as written, for prefix suggestions.
    words = Keyword()

    class Index:
        name = "storyarchive-stories"  # replaced per prefix; see ElasticsearchBackend.index_name
        settings = {"number_of_shards": 1, "number_of_replicas": 0}


def story_document(story) -> dict:
    """An IndexedStory as the JSON body Elasticsearch stores."""

    def text(name, value):
        return {field_for(name, story.analyzer): value}

    segment_field = field_for("text", story.analyzer)
    everything = " ".join([story.title, story.summary, story.body, story.transcript])
    return {
        "story_id": story.id,
        **text("title", story.title),
        **text("summary", story.summary),
        **text("content", " ".join([story.body, *(name for _, name in story.themes), story.community_name])),
        **text("transcript", story.transcript),
        "segments": [
            {"position": s.position, "start": s.start, "end": s.end, segment_field: s.text} for s in story.segments
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
        "words": sorted({fold(word) for word in words(everything)}),
    }
