"""Seed the prompt library as it stood when Circle first shipped (editable in the admin afterwards).

The prompts are a frozen copy, not an import of facilitator/prompt_library.py: a migration must
do the same on every install, and reversing it must delete exactly what it added. A later edit
of the live library reaches existing databases through a new data migration of its own.
"""

from django.db import migrations

# (category, text), in the library's order; positions count from 1 within each category.
PROMPTS: tuple[tuple[str, str], ...] = (
    ("stress", "If you'd like to share, what has been taking up the most space in your mind this week?"),
    (
        "stress",
        (
            "When stress shows up for you, where do you tend to notice it first: in your body, your "
            "thoughts, or your mood?"
        ),
    ),
    (
        "stress",
        (
            "Think of a recent stressful moment you got through. What helped you get to the other "
            "side of it, even a little?"
        ),
    ),
    (
        "stress",
        ("What is one small thing that usually helps you feel a bit calmer, even for a few minutes?"),
    ),
    (
        "stress",
        (
            "If you feel comfortable, share one thing that is weighing on you right now. It's fine to "
            "keep it short, or to pass."
        ),
    ),
    ("stress", "What would a slightly less stressful day look like for you this week?"),
    ("stress", "Who or what in your life helps take some of the pressure off when things feel heavy?"),
    (
        "stress",
        (
            "When you think about what has been stressful lately, which part feels even a little bit "
            "within your control?"
        ),
    ),
    ("stress", "What are the signs that tell you it might be time to take a break?"),
    (
        "triggers",
        ("If you'd like to share, what kinds of places, people, or feelings tend to make things harder for you?"),
    ),
    ("triggers", "If you've ever noticed an urge come and then pass, what helped you ride it out?"),
    ("triggers", "What early signs tell you that a tough moment might be on its way?"),
    ("triggers", "Which times of day or days of the week tend to feel harder for you, if any?"),
    (
        "triggers",
        ("When something stirs up a hard feeling, what is one kind and true thing you could say to yourself?"),
    ),
    (
        "triggers",
        (
            "Boredom, loneliness, and tiredness can make things harder too. Which of these, if any, "
            "feels familiar to you?"
        ),
    ),
    (
        "triggers",
        ("What is one change to your surroundings or routine that has made things a bit easier for you?"),
    ),
    (
        "triggers",
        ("Is there an event or situation coming up that you'd like to think through with the group ahead of time?"),
    ),
    (
        "triggers",
        ("If a hard moment comes up this week, who is one person you might feel okay reaching out to?"),
    ),
    (
        "medication",
        ("If you'd like to share, what has your experience with medication as part of your recovery been like so far?"),
    ),
    (
        "medication",
        ("What is one question about your medication that you'd like to bring to your prescriber or care team?"),
    ),
    (
        "medication",
        (
            "Some people take buprenorphine, methadone, or naltrexone as part of recovery. What would "
            "you want others to understand about that choice?"
        ),
    ),
    (
        "medication",
        ("If someone has ever suggested that medication isn't 'real' recovery, how did that land with you?"),
    ),
    ("medication", "What routines or reminders help you keep track of your medication from day to day?"),
    (
        "medication",
        ("If you've noticed side effects, what has helped you talk them over with your prescriber or care team?"),
    ),
    (
        "medication",
        (
            "What helps you feel comfortable being open with your doctor, nurse, or pharmacist about "
            "how your medication is going?"
        ),
    ),
    ("medication", "What has helped you feel more confident in your own decisions about your treatment?"),
    (
        "medication",
        ("What would you like the people close to you to know about how your medication supports you?"),
    ),
    ("mental_health", "If you'd like to share, how has your mood been over the past few days?"),
    ("mental_health", "What is one thing you've done recently that was kind to your own mind?"),
    ("mental_health", "What helps you get through a day when your energy or mood is low?"),
    ("mental_health", "What has helped you get some rest on nights when sleep doesn't come easily?"),
    (
        "mental_health",
        ("When worry or a low mood shows up, what is one thing that helps you feel a little more grounded?"),
    ),
    ("mental_health", "What would you want someone to understand about how a hard day feels for you?"),
    (
        "mental_health",
        ("Who in your life, or on your care team, do you feel you can talk to about how you're really doing?"),
    ),
    (
        "mental_health",
        ("What have you noticed about your mental health since you started focusing on your recovery?"),
    ),
    (
        "mental_health",
        ("If you feel up to it, what is one feeling you've been carrying that you haven't had a chance to name yet?"),
    ),
    (
        "coping",
        ("Check-in: if you'd like, share one word for how you're arriving today. Passing is always okay."),
    ),
    ("coping", "Check-in: on a scale from 1 to 10, how is your energy today? Just the number is plenty."),
    ("coping", "What is one caring thing you did for yourself this week, however small?"),
    ("coping", "If you'd like to share, which coping skill has been the most useful to you lately?"),
    (
        "coping",
        ("When things feel overwhelming, what is a simple thing you can do in the next five minutes to feel steadier?"),
    ),
    ("coping", "What is a strength you've relied on to get through tough times before?"),
    ("coping", "If a friend were facing what you're facing right now, what might you gently say to them?"),
    ("coping", "What activities, big or small, help you feel more like yourself these days?"),
    (
        "coping",
        ("Check-out: as we wrap up, is there one thing from today's session you'd like to take with you?"),
    ),
    ("coping", "Check-out: if you'd like, share one word for how you're leaving today's session."),
    (
        "family",
        ("If you'd like to share, what is one thing someone close to you has done that helped you feel supported?"),
    ),
    (
        "family",
        ("What is one quality you appreciate in someone in your family, or in someone who feels like family?"),
    ),
    (
        "family",
        ("For family members here today: what has helped you look after yourself while supporting someone you love?"),
    ),
    ("family", "What does a good day together look like for your family, even a simple one?"),
    (
        "family",
        ("What is one thing about your recovery journey that you'd like to share with the people closest to you?"),
    ),
    ("family", "What helps conversations at home feel calmer and more open for everyone?"),
    ("family", "What is one small way your family could notice and celebrate progress together?"),
    ("family", "If you'd like to share, what is a happy memory or tradition with someone you care about?"),
    ("family", "What kind of support from the people in your life feels most helpful to you right now?"),
    (
        "family",
        ("For everyone here, family or not: what does trust look like to you as it grows over time?"),
    ),
    ("goals", "Check-in: what is one thing you're hoping to get out of today's session?"),
    ("goals", "What is one small, doable goal you'd like to set for yourself this coming week?"),
    ("goals", "When you think about your recovery, what matters most to you right now?"),
    ("goals", "Looking back, what is one change you've made that you feel proud of?"),
    (
        "goals",
        ("If things keep moving in a good direction, what do you picture your life looking like six months from now?"),
    ),
    ("goals", "In your own words, what are your reasons for the changes you're working on?"),
    (
        "goals",
        (
            "If you rated how important your current goal is on a scale of 1 to 10, what makes it "
            "that number and not a lower one?"
        ),
    ),
    (
        "goals",
        ("What is one thing that could help you take the next step toward something you care about?"),
    ),
    ("goals", "Check-out: what is one intention you'd like to carry with you until we meet again?"),
)


def seed(apps, schema_editor):
    Prompt = apps.get_model("facilitator", "Prompt")
    positions: dict[str, int] = {}
    for category, text in PROMPTS:
        positions[category] = positions.get(category, 0) + 1
        Prompt.objects.get_or_create(
            category=category, text=text, session=None, defaults={"position": positions[category]}
        )


def unseed(apps, schema_editor):
    Prompt = apps.get_model("facilitator", "Prompt")
    Prompt.objects.filter(session=None, text__in=[text for _, text in PROMPTS]).delete()


class Migration(migrations.Migration):
    dependencies = [("facilitator", "0002_initial")]
    operations = [migrations.RunPython(seed, unseed)]
