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
