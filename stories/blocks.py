from wagtail import blocks
from wagtail.images.blocks import ImageChooserBlock


class QuoteBlock(blocks.StructBlock):
    text = blocks.TextBlock()
    attribution = blocks.CharBlock(required=False, max_length=200)

    class Meta:
        icon = "openquote"
        template = "stories/blocks/quote_block.html"


class StoryImageBlock(blocks.StructBlock):
    image = ImageChooserBlock()
    caption = blocks.CharBlock(required=False, max_length=300)
    alt_text = blocks.CharBlock(max_length=300, help_text="Describe the picture for people who cannot see it.")

    class Meta:
        icon = "image"
        template = "stories/blocks/image_block.html"


class StoryBodyBlock(blocks.StreamBlock):
    paragraph = blocks.RichTextBlock(
        features=["bold", "italic", "link", "ol", "ul"], icon="pilcrow", template="stories/blocks/paragraph_block.html"
    )
    quote = QuoteBlock()
    image = StoryImageBlock()


def paragraph_text(rich_text) -> str:
    """A paragraph's words as plain text: a blank line between its paragraphs, a line for each list item."""
    from html import unescape

    from django.utils.html import strip_tags
    from django.utils.text import normalize_newlines

    source = normalize_newlines(rich_text.source).replace("</p>", "</p>\n\n").replace("</li>", "</li>\n")
    return unescape(strip_tags(source)).strip()


def written_blocks(body) -> list[dict]:
    """A story's written text as plain blocks, in order: paragraph (text), quote (text, attribution) and image
    (alt_text, caption, image: the picture as the page shows it). Plain text throughout: no markup to sanitise."""
    blocks_out = []
    for block in body:
        if block.block_type == "paragraph":
            if text := paragraph_text(block.value):
                blocks_out.append({"type": "paragraph", "text": text})
        elif block.block_type == "quote":
            attribution = block.value.get("attribution") or ""
            blocks_out.append({"type": "quote", "text": block.value["text"], "attribution": attribution})
        elif block.block_type == "image":
            image = block.value.get("image")
            blocks_out.append(
                {
                    "type": "image",
                    "alt_text": block.value.get("alt_text") or "",
                    "caption": block.value.get("caption") or "",
                    # The rendition the story page shows: a public picture, made once.
                    "image": image.get_rendition("width-800").url if image else None,
                }
            )
    return blocks_out


def written_text(blocks_out: list[dict]) -> str:
    """Those blocks as one plain text, blank lines between them, a picture as its description."""
    parts = []
    for block in blocks_out:
        if block["type"] == "paragraph":
            parts.append(block["text"])
        elif block["type"] == "quote":
            parts.append(f"“{block['text']}”" + (f" ({block['attribution']})" if block["attribution"] else ""))
        else:
            parts.append(f"[Picture: {block['alt_text']}]" + (f" {block['caption']}" if block["caption"] else ""))
    return "\n\n".join(parts)
