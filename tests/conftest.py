import pytest


@pytest.fixture(autouse=True)
def _database_for_every_test(db):
    """Every test in this project touches pages or settings; give each one the database."""


@pytest.fixture
def facilitator(django_user_model):
    from stories.roles import FACILITATORS, ensure_facilitators_group

    ensure_facilitators_group()
    user = django_user_model.objects.create_user("facilitator", "facilitator@example.org", "a-long-passphrase")
    user.groups.add(django_user_model.groups.rel.model.objects.get(name=FACILITATORS))
    return user
