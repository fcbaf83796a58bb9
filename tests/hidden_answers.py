"""What a public address may answer for a story the rule hides: nothing of the story."""


def shows_nothing(response) -> bool:
    """A 404; a redirect to the login page (a page restricted to signed-in people); or Wagtail's own password form for
    a page restricted by password, which it serves with 200 at the page and every address below it."""
    if response.status_code == 404:
        return True
    if response.status_code == 302:
        return "/login" in response["Location"]
    if response.status_code == 200 and not getattr(response, "streaming", False):
        return 'name="password"' in response.content.decode("utf-8", "replace")
    return False
