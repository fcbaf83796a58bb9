from django.middleware.gzip import GZipMiddleware


class TextGZipMiddleware(GZipMiddleware):
    """Compress pages and JSON, never recordings: a player's byte ranges must match the file as stored."""

    def process_response(self, request, response):
        content_type = response.get("Content-Type", "")
        if response.streaming or not content_type.startswith(("text/", "application/json")):
            return response
        return super().process_response(request, response)
