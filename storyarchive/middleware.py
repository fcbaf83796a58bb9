import re

from corsheaders.middleware import CorsMiddleware
from django.conf import settings
from django.http import JsonResponse, UnreadablePostError
from django.http.multipartparser import MultiPartParserError
from django.middleware.gzip import GZipMiddleware
from django.shortcuts import render

# NUL, which PostgreSQL text cannot hold, and lone surrogates, which UTF-8 cannot encode.
UNSTORABLE_CHARACTER = re.compile("[\x00\ud800-\udfff]")
FORM_CONTENT_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class TextGZipMiddleware(GZipMiddleware):
    """Compress pages and JSON, never recordings: a player's byte ranges must match the file as stored."""

    def process_response(self, request, response):
        content_type = response.get("Content-Type", "")
        if response.streaming or not content_type.startswith(("text/", "application/json")):
            return response
        return super().process_response(request, response)


def holds_unstorable_character(text: str) -> bool:
    """True when no database column could keep this text as it is."""
    return bool(UNSTORABLE_CHARACTER.search(text))


class UnstorableCharactersMiddleware:
    """Answer 400, with what to fix, to an address, query or form field holding a character no database can store.

    Left to reach a query, such a character is a server error on PostgreSQL (and a lone surrogate on any database),
    whichever view reads it; one check in front of every view closes all of those doors at once.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        problem = self.problem(request)
        if problem is None:
            return self.get_response(request)
        message = f"{problem} holds a character the archive cannot read (a NUL byte or a broken character)."
        from .urls import API_PREFIX

        if request.path_info.startswith(f"/{API_PREFIX}"):
            return JsonResponse({"detail": message}, status=400)
        return render(request, "400.html", {"message": message}, status=400)

    def problem(self, request) -> str | None:
        """Which part of the request cannot be stored, in words for the visitor; None when every part can."""
        if holds_unstorable_character(request.path_info):
            return "The address"
        for name, values in request.GET.lists():
            if holds_unstorable_character(name) or any(holds_unstorable_character(v) for v in values):
                return f"The query parameter “{_printable(name)}”"
        for name, values in self._form_fields(request):
            if holds_unstorable_character(name) or any(holds_unstorable_character(v) for v in values):
                return f"The form field “{_printable(name)}”"
        return None

    @staticmethod
    def _form_fields(request):
        # Only a form body small enough to be held in memory anyway: a large upload is refused or streamed by its
        # view before it is read, and the form fields that come with it are checked by Django's forms.
        if request.method != "POST" or request.content_type not in FORM_CONTENT_TYPES:
            return []
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return []
        if length > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
            return []
        try:
            return request.POST.lists()
        except (MultiPartParserError, UnreadablePostError):
            return []  # the view answers a body it cannot read, as it always has


def _printable(name: str) -> str:
    return UNSTORABLE_CHARACTER.sub("\N{REPLACEMENT CHARACTER}", name)


def content_security_policy(**replaced: list[str]) -> str:
    """settings.CONTENT_SECURITY_POLICY as a header's value, with the directives named (frame_ancestors=[...])
    replaced: a view that sets its own header keeps it, as the middleware only fills in a missing one."""
    directives = settings.CONTENT_SECURITY_POLICY | {name.replace("_", "-"): v for name, v in replaced.items()}
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in directives.items())


class ContentSecurityPolicyMiddleware:
    """Send settings.CONTENT_SECURITY_POLICY with every response outside the Wagtail and Django admins, whose own
    pages rely on inline scripts and styles. The public site has none, so a script injected into a story's text
    would not run."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.policy = content_security_policy()
        self.exempt = tuple(settings.CONTENT_SECURITY_POLICY_EXEMPT_PREFIXES)

    def __call__(self, request):
        response = self.get_response(request)
        if self.policy and not request.path.startswith(self.exempt):
            response.setdefault("Content-Security-Policy", self.policy)
        return response


API_PATH = "/api/"
READ_METHODS = ("GET", "HEAD")


class PublicReadCorsMiddleware(CorsMiddleware):
    """Let pages on any site read the public API (`Access-Control-Allow-Origin: *`, no credentials): GET and HEAD
    under /api/, and the preflight a browser sends before such a GET. Nothing else is shared with other sites: no
    admin page, no form, no write."""

    def is_enabled(self, request) -> bool:
        if not request.path_info.startswith(API_PATH):
            return False
        if request.method == "OPTIONS":
            return request.headers.get("Access-Control-Request-Method", "").upper() in READ_METHODS
        return request.method in READ_METHODS


# The sentence an API error says when what answered it was not the API's own code (Django's 405, 500, ...).
API_ERROR_DETAIL = {
    400: "The archive could not read this request.",
    403: "This address does not answer that request.",
    404: "There is nothing at this address in the API: /api/docs lists every address it answers.",
    405: "This address answers only GET.",
    500: "Something went wrong on the archive's side; it has been logged. Please try again later.",
}


class ApiErrorsAsJsonMiddleware:
    """Every error under /api/ is the API's JSON shape, `{"detail": "..."}`, even one Django itself answered (a method
    the address does not take, a server error), so a client reads every failure the same way."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            request.path_info.startswith(API_PATH)
            and response.status_code >= 400
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            detail = (
                API_ERROR_DETAIL.get(response.status_code)
                or API_ERROR_DETAIL[500 if response.status_code >= 500 else 400]
            )
            as_json = JsonResponse({"detail": detail}, status=response.status_code)
            for header in ("Allow", "Retry-After", "Cache-Control"):
                if header in response:
                    as_json[header] = response[header]
            return as_json
        return response
