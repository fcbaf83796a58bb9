from django.db import migrations

VITAL_CONDITIONS = [
    ("Basic needs for health and safety", "basic-needs", "Food, clean air and water, health care, and safety from harm."),
    ("Lifelong learning", "lifelong-learning", "Learning from early childhood through old age, in school and beyond."),
    ("Meaningful work and wealth", "meaningful-work", "Good jobs, fair pay, and the means to build wealth across generations."),
    ("Humane housing", "humane-housing", "Homes that are safe, affordable, stable and close to what people need."),
    ("Reliable transportation", "reliable-transportation", "Ways to reach work, school, care and each other."),
    ("Thriving natural world", "thriving-natural-world", "Land, water, air and climate that sustain life."),
    ("Belonging and civic muscle", "belonging-civic-muscle", "Feeling part of a community, and the power to shape it together."),
]


def seed(apps, schema_editor):
    Theme = apps.get_model("stories", "Theme")
    for name, slug, description in VITAL_CONDITIONS:
        Theme.objects.get_or_create(slug=slug, defaults={"name": name, "description": description})

    ContentType = apps.get_model("contenttypes", "ContentType")
    Page = apps.get_model("wagtailcore", "Page")
    Site = apps.get_model("wagtailcore", "Site")
    Locale = apps.get_model("wagtailcore", "Locale")
    HomePage = apps.get_model("stories", "HomePage")
    StoryIndexPage = apps.get_model("stories", "StoryIndexPage")

    # Replace Wagtail's welcome page with the archive's home and its story index.
    Page.objects.filter(depth=2, url_path="/home/").delete()
    locale = Locale.objects.first()
    home_type, _ = ContentType.objects.get_or_create(model="homepage", app_label="stories")
    index_type, _ = ContentType.objects.get_or_create(model="storyindexpage", app_label="stories")
    home = HomePage.objects.create(
        title="Story Archive",
        draft_title="Story Archive",
        slug="home",
        content_type=home_type,
        path="00010001",
        depth=2,
        numchild=1,
        url_path="/home/",
        locale=locale,
        live=True,
        intro="<p>Stories told across generations about the conditions that let people thrive.</p>",
    )
    StoryIndexPage.objects.create(
        title="Stories",
        draft_title="Stories",
        slug="stories",
        content_type=index_type,
        path="000100010001",
        depth=3,
        numchild=0,
        url_path="/home/stories/",
        locale=locale,
        live=True,
    )
    Page.objects.filter(depth=1).update(numchild=1)
    Site.objects.update_or_create(is_default_site=True, defaults={"hostname": "localhost", "root_page": home, "site_name": "Story Archive"})


def unseed(apps, schema_editor):
    apps.get_model("stories", "Theme").objects.all().delete()
    apps.get_model("stories", "HomePage").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("stories", "0001_initial"),
        ("wagtailcore", "0001_initial"),
        ("wagtailcore", "0094_alter_page_locale"),
    ]

    operations = [migrations.RunPython(seed, unseed)]
