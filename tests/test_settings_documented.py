"""Every environment variable the code reads is in the README's settings table and in .env.example: an operator
learns of a setting from those two places only."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
APPS = ("storyarchive", "stories", "search", "transcription")
# os.environ.get("NAME"...), env_int("NAME"...) and production's required("NAME"): the ways the code reads one.
READ = re.compile(r"""(?:environ\.get|env_int|required)\(\s*["']([A-Z][A-Z0-9_]+)["']""")


def variables_read() -> set[str]:
    names = {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}  # read by dj_database_url and by Django itself
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            names |= set(READ.findall(path.read_text()))
    return names


def documented_in_readme() -> set[str]:
    readme = (ROOT / "README.md").read_text()
    table = readme[readme.index("## Settings") :].split("\n## ", 1)[0]
    names = set()
    for row in re.findall(r"^\| (`.+?) \|", table, re.M):
        first = re.findall(r"`([A-Z][A-Z0-9_]*)`", row)
        names |= set(first)
        # `STORY_SHARE_LIMIT_ADDRESS`, `_INVITE`: a suffix shares the first name's stem
        stem = first[0].rsplit("_", 1)[0] if first else ""
        names |= {stem + suffix for suffix in re.findall(r"`(_[A-Z0-9_]+)`", row)}
    return names


def test_every_variable_the_code_reads_is_in_the_readme_table_and_env_example():
    read = variables_read()
    example = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.M))

    assert {"SECRET_KEY", "TRANSCRIPTION_MODEL", "STORY_SHARE_LIMIT_INVITE"} <= read, "control: the scan finds reads"
    assert read - documented_in_readme() == set(), "read by the code but missing from the README's settings table"
    assert read - example == set(), "read by the code but missing from .env.example"
