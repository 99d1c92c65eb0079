"""The Consultants group: staff in it work the CaseConsultant queue."""

from django.db import migrations


def group_create(apps, schema_editor) -> None:
    Group = apps.get_model("auth", "Group")
    Group.objects.get_or_create(name="Consultants")


def group_delete(apps, schema_editor) -> None:
    apps.get_model("auth", "Group").objects.filter(name="Consultants").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("consult", "0001_consultations"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(group_create, group_delete)]
