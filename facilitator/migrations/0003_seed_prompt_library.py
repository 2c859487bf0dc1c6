"""Seed the prompt library from facilitator/prompt_library.py (editable in the admin afterwards)."""

from django.db import migrations

from facilitator import prompt_library


def seed(apps, schema_editor):  # noqa: ANN001, ANN201
    Prompt = apps.get_model("facilitator", "Prompt")
    prompt_library.validate()
    positions: dict[str, int] = {}
    for category, text in prompt_library.PROMPTS:
        positions[category] = positions.get(category, 0) + 1
        Prompt.objects.get_or_create(
            category=category, text=text, session=None, defaults={"position": positions[category]}
        )


def unseed(apps, schema_editor):  # noqa: ANN001, ANN201
    Prompt = apps.get_model("facilitator", "Prompt")
    Prompt.objects.filter(session=None, text__in=[text for _, text in prompt_library.PROMPTS]).delete()


class Migration(migrations.Migration):
    dependencies = [("facilitator", "0002_initial")]
    operations = [migrations.RunPython(seed, unseed)]
