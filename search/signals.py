"""Events the search app announces. Higher apps listen; search never imports them."""

from django.dispatch import Signal

# A visitor's search (the page or the API) found no story at all. Sent with text, exactly as typed: a listener keeps
# the text only, nothing about who searched.
search_found_nothing = Signal()
