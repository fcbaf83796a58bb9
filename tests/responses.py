"""What a test reads of a response, whether Django streams it (files, recordings) or not."""


def body(response) -> bytes:
    """The bytes the client receives."""
    return b"".join(response.streaming_content) if response.streaming else response.content


def body_text(response) -> str:
    """The body as text, with any byte that is not UTF-8 replaced."""
    return body(response).decode("utf-8", "replace")
