"""Topic prompts a facilitator can post to a Circle group session.

Circle hosts text-based group sessions for addiction-recovery programs. A
trained facilitator picks prompts from this library and posts them to the
group. The data migrations seed the database from frozen copies of this module
(facilitator/migrations/0003_seed_prompt_library.py), never from the module
itself: an edit here reaches existing databases through a new data migration
(tests/test_facilitation_agenda_stats.py fails until there is one).

The spirit of every prompt
--------------------------
* Non-judgemental. Nothing here assumes someone used recently, slipped, or
  failed, and nothing asks anyone to justify themselves.
* Motivational interviewing: open questions rather than yes/no questions;
  reflecting each person's autonomy (their recovery, their choices); affirming
  strengths and efforts, however small; evoking the person's *own* reasons
  for change instead of supplying reasons for them.
* Person-first language. No shaming labels such as "addict", "junkie" or
  "clean vs dirty"; we talk about people, experiences and substance use.
* Invitations, not demands. Many prompts offer an easy way in ("If you'd like
  to share...") and everyone may pass on any prompt, at any time, without
  explaining why.
* Written for an anxious person typing on a phone: plain words, no jargon, one
  question at a time, short enough to read at a glance.
* Medication prompts ask about experiences, routines, side effects, questions
  for the prescriber and stigma around medication-assisted treatment (MAT:
  buprenorphine, methadone, naltrexone). They never suggest starting, stopping
  or changing a dose; that conversation belongs with the prescriber.
* Family prompts suit sessions where spouses, parents or children may attend.
  They look for support, appreciation and understanding, never blame.

Check-in and check-out prompts start with "Check-in:" or "Check-out:" and sit
in the category that fits them (mostly "coping" and "goals").

Each entry in PROMPTS is ``(category_key, text)`` where ``category_key`` is one
of the values of rooms.models.PromptCategory. Call ``validate()`` (for example
from a test) to check the library's basic invariants.
"""

from rooms.models import PromptCategory

PROMPTS: tuple[tuple[str, str], ...] = (
    # stress
    (
        "stress",
        (
            "If you'd like to share, what has been taking up the most space in your mind "
            "this week?"
        ),
    ),
    (
        "stress",
        (
            "When stress shows up for you, where do you tend to notice it first: in your "
            "body, your thoughts, or your mood?"
        ),
    ),
    (
        "stress",
        (
            "Think of a recent stressful moment you got through. What helped you get to "
            "the other side of it, even a little?"
        ),
    ),
    (
        "stress",
        (
            "What is one small thing that usually helps you feel a bit calmer, even for "
            "a few minutes?"
        ),
    ),
    (
        "stress",
        (
            "If you feel comfortable, share one thing that is weighing on you right now. "
            "It's fine to keep it short, or to pass."
        ),
    ),
    ("stress", "What would a slightly less stressful day look like for you this week?"),
    (
        "stress",
        (
            "Who or what in your life helps take some of the pressure off when things "
            "feel heavy?"
        ),
    ),
    (
        "stress",
        (
            "When you think about what has been stressful lately, which part feels even "
            "a little bit within your control?"
        ),
    ),
    ("stress", "What are the signs that tell you it might be time to take a break?"),
    # triggers
    (
        "triggers",
        (
            "If you'd like to share, what kinds of places, people, or feelings tend to "
            "make things harder for you?"
        ),
    ),
    (
        "triggers",
        (
            "If you've ever noticed an urge come and then pass, what helped you ride it "
            "out?"
        ),
    ),
    ("triggers", "What early signs tell you that a tough moment might be on its way?"),
    (
        "triggers",
        "Which times of day or days of the week tend to feel harder for you, if any?",
    ),
    (
        "triggers",
        (
            "When something stirs up a hard feeling, what is one kind and true thing you "
            "could say to yourself?"
        ),
    ),
    (
        "triggers",
        (
            "Boredom, loneliness, and tiredness can make things harder too. Which of "
            "these, if any, feels familiar to you?"
        ),
    ),
    (
        "triggers",
        (
            "What is one change to your surroundings or routine that has made things a "
            "bit easier for you?"
        ),
    ),
    (
        "triggers",
        (
            "Is there an event or situation coming up that you'd like to think through "
            "with the group ahead of time?"
        ),
    ),
    (
        "triggers",
        (
            "If a hard moment comes up this week, who is one person you might feel okay "
            "reaching out to?"
        ),
    ),
    # medication
    (
        "medication",
        (
            "If you'd like to share, what has your experience with medication as part of "
            "your recovery been like so far?"
        ),
    ),
    (
        "medication",
        (
            "What is one question about your medication that you'd like to bring to your "
            "prescriber or care team?"
        ),
    ),
    (
        "medication",
        (
            "Some people take buprenorphine, methadone, or naltrexone as part of "
            "recovery. What would you want others to understand about that choice?"
        ),
    ),
    (
        "medication",
        (
            "If someone has ever suggested that medication isn't 'real' recovery, how "
            "did that land with you?"
        ),
    ),
    (
        "medication",
        (
            "What routines or reminders help you keep track of your medication from day "
            "to day?"
        ),
    ),
    (
        "medication",
        (
            "If you've noticed side effects, what has helped you talk them over with "
            "your prescriber or care team?"
        ),
    ),
    (
        "medication",
        (
            "What helps you feel comfortable being open with your doctor, nurse, or "
            "pharmacist about how your medication is going?"
        ),
    ),
    (
        "medication",
        (
            "What has helped you feel more confident in your own decisions about your "
            "treatment?"
        ),
    ),
    (
        "medication",
        (
            "What would you like the people close to you to know about how your "
            "medication supports you?"
        ),
    ),
    # mental_health
    (
        "mental_health",
        "If you'd like to share, how has your mood been over the past few days?",
    ),
    (
        "mental_health",
        "What is one thing you've done recently that was kind to your own mind?",
    ),
    (
        "mental_health",
        "What helps you get through a day when your energy or mood is low?",
    ),
    (
        "mental_health",
        "What has helped you get some rest on nights when sleep doesn't come easily?",
    ),
    (
        "mental_health",
        (
            "When worry or a low mood shows up, what is one thing that helps you feel a "
            "little more grounded?"
        ),
    ),
    (
        "mental_health",
        (
            "What would you want someone to understand about how a hard day feels for "
            "you?"
        ),
    ),
    (
        "mental_health",
        (
            "Who in your life, or on your care team, do you feel you can talk to about "
            "how you're really doing?"
        ),
    ),
    (
        "mental_health",
        (
            "What have you noticed about your mental health since you started focusing "
            "on your recovery?"
        ),
    ),
    (
        "mental_health",
        (
            "If you feel up to it, what is one feeling you've been carrying that you "
            "haven't had a chance to name yet?"
        ),
    ),
    # coping
    (
        "coping",
        (
            "Check-in: if you'd like, share one word for how you're arriving today. "
            "Passing is always okay."
        ),
    ),
    (
        "coping",
        (
            "Check-in: on a scale from 1 to 10, how is your energy today? Just the "
            "number is plenty."
        ),
    ),
    (
        "coping",
        "What is one caring thing you did for yourself this week, however small?",
    ),
    (
        "coping",
        (
            "If you'd like to share, which coping skill has been the most useful to you "
            "lately?"
        ),
    ),
    (
        "coping",
        (
            "When things feel overwhelming, what is a simple thing you can do in the "
            "next five minutes to feel steadier?"
        ),
    ),
    (
        "coping",
        "What is a strength you've relied on to get through tough times before?",
    ),
    (
        "coping",
        (
            "If a friend were facing what you're facing right now, what might you gently "
            "say to them?"
        ),
    ),
    (
        "coping",
        "What activities, big or small, help you feel more like yourself these days?",
    ),
    (
        "coping",
        (
            "Check-out: as we wrap up, is there one thing from today's session you'd "
            "like to take with you?"
        ),
    ),
    (
        "coping",
        (
            "Check-out: if you'd like, share one word for how you're leaving today's "
            "session."
        ),
    ),
    # family
    (
        "family",
        (
            "If you'd like to share, what is one thing someone close to you has done "
            "that helped you feel supported?"
        ),
    ),
    (
        "family",
        (
            "What is one quality you appreciate in someone in your family, or in someone "
            "who feels like family?"
        ),
    ),
    (
        "family",
        (
            "For family members here today: what has helped you look after yourself "
            "while supporting someone you love?"
        ),
    ),
    (
        "family",
        "What does a good day together look like for your family, even a simple one?",
    ),
    (
        "family",
        (
            "What is one thing about your recovery journey that you'd like to share with "
            "the people closest to you?"
        ),
    ),
    (
        "family",
        "What helps conversations at home feel calmer and more open for everyone?",
    ),
    (
        "family",
        (
            "What is one small way your family could notice and celebrate progress "
            "together?"
        ),
    ),
    (
        "family",
        (
            "If you'd like to share, what is a happy memory or tradition with someone "
            "you care about?"
        ),
    ),
    (
        "family",
        (
            "What kind of support from the people in your life feels most helpful to you "
            "right now?"
        ),
    ),
    (
        "family",
        (
            "For everyone here, family or not: what does trust look like to you as it "
            "grows over time?"
        ),
    ),
    # goals
    (
        "goals",
        "Check-in: what is one thing you're hoping to get out of today's session?",
    ),
    (
        "goals",
        (
            "What is one small, doable goal you'd like to set for yourself this coming "
            "week?"
        ),
    ),
    (
        "goals",
        "When you think about your recovery, what matters most to you right now?",
    ),
    ("goals", "Looking back, what is one change you've made that you feel proud of?"),
    (
        "goals",
        (
            "If things keep moving in a good direction, what do you picture your life "
            "looking like six months from now?"
        ),
    ),
    (
        "goals",
        "In your own words, what are your reasons for the changes you're working on?",
    ),
    (
        "goals",
        (
            "If you rated how important your current goal is on a scale of 1 to 10, what "
            "makes it that number and not a lower one?"
        ),
    ),
    (
        "goals",
        (
            "What is one thing that could help you take the next step toward something "
            "you care about?"
        ),
    ),
    (
        "goals",
        (
            "Check-out: what is one intention you'd like to carry with you until we meet "
            "again?"
        ),
    ),
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


_MIN_PROMPTS_PER_CATEGORY = 5
_MIN_TEXT_LENGTH = 20
_MAX_TEXT_LENGTH = 300


def validate() -> None:
    """Check the library's invariants; raise ValueError on the first problem.

    Checks that every category key in PROMPTS is known, every category has at
    least five prompts, no text appears twice, and every text is between 20
    and 300 characters long.
    """
    known = set(PromptCategory.values)
    counts = dict.fromkeys(known, 0)
    seen: set[str] = set()
    for key, text in PROMPTS:
        if key not in known:
            raise ValueError(f"Unknown category key {key!r} for prompt {text!r}")
        if not _MIN_TEXT_LENGTH <= len(text) <= _MAX_TEXT_LENGTH:
            raise ValueError(
                f"Prompt length {len(text)} is outside "
                f"{_MIN_TEXT_LENGTH}..{_MAX_TEXT_LENGTH}: {text!r}"
            )
        if text in seen:
            raise ValueError(f"Duplicate prompt text: {text!r}")
        seen.add(text)
        counts[key] += 1
    for key in PromptCategory.values:
        if counts[key] < _MIN_PROMPTS_PER_CATEGORY:
            raise ValueError(
                f"Category {key!r} has {counts[key]} prompts; "
                f"at least {_MIN_PROMPTS_PER_CATEGORY} are required"
            )
