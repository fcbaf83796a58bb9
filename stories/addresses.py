"""Stories' addresses from their url_path, for lists read as plain values rather than as pages (feeds, OAI-PMH).

A list of hundreds built as page objects would spend most of its time making them; this gives the address Wagtail's
`Page.get_url_parts` gives, from the stored url_path alone: below the first site root that holds it (Wagtail orders the
default site first), through Wagtail's serve pattern. Site roots are read once per list.
"""

from django.urls import reverse
from wagtail.models import Site


class StoryAddresses:
    def __init__(self):
        self.roots = [root.root_path for root in Site.get_site_root_paths()]
        self.prefix = reverse("wagtail_serve", args=("",))

    def path(self, url_path: str) -> str | None:
        """The page's path on its site, or None when no site holds it (the page cannot be reached)."""
        for root in self.roots:
            if url_path.startswith(root):
                return self.prefix + url_path[len(root) :]
        return None
