"""Two prompt categories for the individual session's motivational-interviewing panel (issue 23), and their prompts.

The prompts are a frozen copy, like facilitator/0003's (the library's content lives in
facilitator/prompt_library.py, which is 0003's prompts followed by these; tests/test_facilitation_agenda_stats.py
holds it to that). They are seeded here, beside the category change, because Prompt is a rooms model now.
Reversing deletes exactly these.
"""

from django.db import migrations, models

# (category, text), in the library's order; positions count from 1 within each category.
PROMPTS: tuple[tuple[str, str], ...] = (
    # withdrawal (withdrawal and cravings): for the individual session's motivational-interviewing panel
    ("withdrawal", "If you'd like to share, how has your body been feeling over the past few days?"),
    ("withdrawal", "When a craving shows up, what do you notice first, and what tends to happen next?"),
    (
        "withdrawal",
        "Think of a craving that came and then passed. What did you do, or tell yourself, while you waited it out?",
    ),
    (
        "withdrawal",
        "On a scale of 0 to 10, how strong have the cravings felt this week, and what keeps it from being higher?",
    ),
    ("withdrawal", "What has helped you sleep, eat or rest a little better while your body adjusts?"),
    ("withdrawal", "Getting through withdrawal is hard work. What has carried you through the hardest hours so far?"),
    (
        "withdrawal",
        "Which times of day do cravings tend to be loudest for you, and what could you plan for those times?",
    ),
    (
        "withdrawal",
        "Who could you reach out to the next time a strong craving comes, and what would you want them to know?",
    ),
    (
        "withdrawal",
        "What questions would you like to bring to your prescriber or nurse about how you have been feeling?",
    ),
    (
        "withdrawal",
        (
            "It sounds like part of you wants relief right now and "
            "part of you wants to keep going. What does each part say?"
        ),
    ),
    ("withdrawal", "What would you like to remember about this week's cravings the next time one arrives?"),
    ("withdrawal", "What has surprised you, if anything, about how your body and mind have responded lately?"),
    # motivation: open questions, affirmations, reflections, summaries, change talk
    ("motivation", "If things went the way you hope, what would your life look like a year from now?"),
    ("motivation", "In your own words, what are your reasons for wanting this change? Take all the time you need."),
    (
        "motivation",
        (
            "On a scale of 0 to 10, how important is this change "
            "to you right now, and why that number and not a lower one?"
        ),
    ),
    (
        "motivation",
        (
            "On a scale of 0 to 10, how confident are you that "
            "you could make this change, and what would move you one point higher?"
        ),
    ),
    ("motivation", "You kept coming back, even in a week that was hard. What does that say about what matters to you?"),
    ("motivation", "What worries you most, if anything, about things staying the way they are?"),
    ("motivation", "What might be better for you, or for the people you care about, if you made this change?"),
    ("motivation", "What have you already tried that worked, even a little, and what did it teach you about yourself?"),
    (
        "motivation",
        "It sounds like part of you wants things to change and part of you isn't sure yet. How does that fit for you?",
    ),
    (
        "motivation",
        "If you were to sum up today in a sentence or two, what stands out for you, and what would you add?",
    ),
    ("motivation", "What is one first step you feel ready to take this week, however small it is?"),
    ("motivation", "If you decided to go ahead, how would you go about it, and what strengths would you bring to it?"),
)


def seed(apps, schema_editor):
    Prompt = apps.get_model("rooms", "Prompt")
    positions: dict[str, int] = {}
    for category, text in PROMPTS:
        positions[category] = positions.get(category, 0) + 1
        Prompt.objects.get_or_create(
            category=category, text=text, session=None, defaults={"position": positions[category]}
        )


def unseed(apps, schema_editor):
    Prompt = apps.get_model("rooms", "Prompt")
    Prompt.objects.filter(session=None, text__in=[text for _, text in PROMPTS]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("rooms", "0007_session_status_cancelled"),
    ]

    operations = [
        migrations.AlterField(
            model_name="prompt",
            name="category",
            field=models.CharField(
                choices=[
                    ("stress", "Stress"),
                    ("triggers", "Triggers"),
                    ("medication", "Medication"),
                    ("mental_health", "Mental health"),
                    ("coping", "Coping"),
                    ("family", "Family and relationships"),
                    ("goals", "Goals"),
                    ("withdrawal", "Withdrawal and cravings"),
                    ("motivation", "Motivation"),
                ],
                max_length=20,
            ),
        ),
        migrations.RunPython(seed, unseed),
    ]
