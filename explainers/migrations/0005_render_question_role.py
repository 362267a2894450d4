from django.db import migrations, models


def roles_from_examples(apps, schema_editor):
    RenderQuestion = apps.get_model("explainers", "RenderQuestion")
    RenderQuestion.objects.filter(is_example=True).update(role="example")


def examples_from_roles(apps, schema_editor):
    RenderQuestion = apps.get_model("explainers", "RenderQuestion")
    RenderQuestion.objects.filter(role="example").update(is_example=True)


class Migration(migrations.Migration):
    """A picked image's role (question, example, practice or attention check) replaces is_example."""

    dependencies = [
        ("explainers", "0004_selection_dry_run"),
    ]

    operations = [
        migrations.AddField(
            model_name="renderquestion",
            name="role",
            field=models.CharField(
                choices=[
                    ("question", "Question"),
                    ("example", "Example in the introductions"),
                    ("practice", "Practice question"),
                    ("attention", "Attention check: an unmistakable image"),
                    ("instructed", "Attention check: an instructed response"),
                ],
                default="question",
                max_length=12,
            ),
        ),
        migrations.RunPython(roles_from_examples, examples_from_roles),
        migrations.RemoveField(model_name="renderquestion", name="is_example"),
    ]
