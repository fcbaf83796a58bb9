from django.db import migrations

# (model, actions) facilitators need for intake: invite links, correction notes, the withdrawal audit trail.
INTAKE_PERMISSIONS = [
    ("invite", ("add", "change", "view")),
    ("correctionrequest", ("change", "view")),
    ("withdrawal", ("view",)),
]
VERBOSE = {"invite": "invite", "correctionrequest": "correction request", "withdrawal": "withdrawal"}


def grant(apps, schema_editor):
    # Permissions for new models are normally made after every migration has run; make them here so the group can
    # hold them now. Django's own pass later finds them and leaves them be.
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    facilitators, _ = Group.objects.get_or_create(name="Facilitators")
    for model, actions in INTAKE_PERMISSIONS:
        content_type, _ = ContentType.objects.get_or_create(app_label="stories", model=model)
        for action in actions:
            permission, _ = Permission.objects.get_or_create(
                content_type=content_type,
                codename=f"{action}_{model}",
                defaults={"name": f"Can {action} {VERBOSE[model]}"},
            )
            facilitators.permissions.add(permission)


class Migration(migrations.Migration):
    dependencies = [
        ("stories", "0004_facilitator_review_workflow"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
