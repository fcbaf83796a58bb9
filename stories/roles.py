"""The Facilitators group: editors who review, correct, tag and curate, but do not manage communities or users."""

from django.contrib.auth.models import Group, Permission

FACILITATORS = "Facilitators"
# (app_label, model, actions) that facilitators may use in the admin.
FACILITATOR_MODEL_PERMISSIONS = [
    ("stories", "theme", ("add", "change", "view")),
    ("stories", "dialogue", ("add", "change", "view")),
    ("stories", "person", ("add", "change", "view")),
    ("stories", "consent", ("add", "change", "view")),
    ("stories", "community", ("view",)),
    ("stories", "contentnote", ("view",)),
    ("stories", "invite", ("add", "change", "view")),
    ("stories", "correctionrequest", ("change", "view")),
    ("stories", "withdrawal", ("view",)),
    ("wagtailimages", "image", ("add", "change", "choose")),
    ("wagtaildocs", "document", ("add", "change", "choose")),
]
FACILITATOR_PAGE_PERMISSIONS = ("add_page", "change_page", "publish_page")


def ensure_facilitators_group(**kwargs) -> Group:
    """Create or refresh the group; safe to run after every migrate."""
    from wagtail.models import Collection, GroupCollectionPermission, GroupPagePermission, Page

    from .models import HomePage

    group, _ = Group.objects.get_or_create(name=FACILITATORS)
    root = Collection.get_first_root_node()
    admin_access = Permission.objects.filter(content_type__app_label="wagtailadmin", codename="access_admin")
    group.permissions.add(*admin_access)
    for app_label, model, actions in FACILITATOR_MODEL_PERMISSIONS:
        codenames = [f"{action}_{model}" for action in actions]
        permissions = Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames)
        if app_label.startswith("wagtail"):
            # Images and documents are granted per collection in Wagtail; a flushed test database has none yet.
            for permission in permissions if root is not None else []:
                GroupCollectionPermission.objects.get_or_create(group=group, collection=root, permission=permission)
        else:
            group.permissions.add(*permissions)
    home = HomePage.objects.first() or Page.objects.filter(depth=2).first()
    if home is not None:
        for codename in FACILITATOR_PAGE_PERMISSIONS:
            permission = Permission.objects.get(content_type__app_label="wagtailcore", codename=codename)
            GroupPagePermission.objects.get_or_create(group=group, page=home, permission=permission)
    return group
