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

# Each prompt in Spanish (issue 26), by its English text: written for the same purpose rather than word
# for word, in the same spirit (usted; plain words that read naturally in Mexican, Caribbean and Central
# American Spanish). The picker shows the facilitator's language; a posted prompt, each participant's own.
# Seeded by facilitator/migrations/0007_prompt_library_spanish.py (a frozen copy, like the prompts').
SPANISH: dict[str, str] = {
    "If you'd like to share, what has been taking up the most space in your mind this week?":
        "Si quiere compartir, ¿qué es lo que más le ha ocupado la mente esta semana?",
    "When stress shows up for you, where do you tend to notice it first: in your body, your thoughts, or your mood?":
        "Cuando aparece el estrés, ¿dónde lo nota primero: en el cuerpo, en los pensamientos o en el ánimo?",
    "Think of a recent stressful moment you got through. What helped you get to the other side of it, even a little?":
        (
            "Piense en un momento difícil reciente que logró superar. ¿Qué le ayudó a salir adelante, aunque fuera "
            "un poco?"
        ),
    "What is one small thing that usually helps you feel a bit calmer, even for a few minutes?":
        "¿Qué cosa pequeña suele ayudarle a sentirse un poco más tranquilo, aunque sea por unos minutos?",
    (
        "If you feel comfortable, share one thing that is weighing on you right now. It's fine to keep it short, or "
        "to pass."
    ):
        "Si se siente en confianza, comparta algo que le pese ahora mismo. Puede ser algo breve, o puede pasar.",
    "What would a slightly less stressful day look like for you this week?":
        "¿Cómo sería para usted un día con un poco menos de estrés esta semana?",
    "Who or what in your life helps take some of the pressure off when things feel heavy?":
        "¿Quién o qué en su vida le ayuda a aliviar la presión cuando las cosas se sienten pesadas?",
    "When you think about what has been stressful lately, which part feels even a little bit within your control?":
        "De lo que le ha causado estrés últimamente, ¿qué parte siente que está, aunque sea un poco, en sus manos?",
    "What are the signs that tell you it might be time to take a break?":
        "¿Qué señales le dicen que tal vez es momento de tomar un descanso?",
    "If you'd like to share, what kinds of places, people, or feelings tend to make things harder for you?":
        "Si quiere compartir, ¿qué lugares, personas o sentimientos suelen hacerle las cosas más difíciles?",
    "If you've ever noticed an urge come and then pass, what helped you ride it out?":
        (
            "Si alguna vez ha sentido unas ganas fuertes que llegaron y luego pasaron, ¿qué le ayudó a aguantar "
            "hasta que se fueron?"
        ),
    "What early signs tell you that a tough moment might be on its way?":
        "¿Qué primeras señales le avisan que se acerca un momento difícil?",
    "Which times of day or days of the week tend to feel harder for you, if any?":
        "¿Hay horas del día o días de la semana que se le hacen más pesados? ¿Cuáles?",
    "When something stirs up a hard feeling, what is one kind and true thing you could say to yourself?":
        "Cuando algo le despierta un sentimiento difícil, ¿qué frase amable y verdadera podría decirse a sí mismo?",
    "Boredom, loneliness, and tiredness can make things harder too. Which of these, if any, feels familiar to you?":
        (
            "El aburrimiento, la soledad y el cansancio también pueden complicar las cosas. ¿Alguno de ellos le "
            "resulta conocido?"
        ),
    "What is one change to your surroundings or routine that has made things a bit easier for you?":
        "¿Qué cambio en su entorno o en su rutina le ha hecho las cosas un poco más fáciles?",
    "Is there an event or situation coming up that you'd like to think through with the group ahead of time?":
        "¿Viene algún evento o situación que le gustaría pensar con el grupo antes de que llegue?",
    "If a hard moment comes up this week, who is one person you might feel okay reaching out to?":
        "Si esta semana llega un momento difícil, ¿a qué persona sentiría que puede buscar?",
    "If you'd like to share, what has your experience with medication as part of your recovery been like so far?":
        (
            "Si quiere compartir, ¿cómo ha sido hasta ahora su experiencia con los medicamentos como parte de su "
            "recuperación?"
        ),
    "What is one question about your medication that you'd like to bring to your prescriber or care team?":
        "¿Qué pregunta sobre su medicamento le gustaría llevarle a quien se lo receta o a su equipo de atención?",
    (
        "Some people take buprenorphine, methadone, or naltrexone as part of recovery. What would you want others "
        "to understand about that choice?"
    ):
        (
            "Algunas personas toman buprenorfina, metadona o naltrexona como parte de su recuperación. ¿Qué le "
            "gustaría que otros entendieran de esa decisión?"
        ),
    "If someone has ever suggested that medication isn't 'real' recovery, how did that land with you?":
        "Si alguien le ha dicho alguna vez que con medicamento no es una recuperación 'de verdad', ¿cómo le cayó eso?",
    "What routines or reminders help you keep track of your medication from day to day?":
        "¿Qué rutinas o recordatorios le ayudan a llevar la cuenta de su medicamento día con día?",
    "If you've noticed side effects, what has helped you talk them over with your prescriber or care team?":
        (
            "Si ha notado efectos secundarios, ¿qué le ha ayudado a hablarlos con quien le receta o con su equipo "
            "de atención?"
        ),
    (
        "What helps you feel comfortable being open with your doctor, nurse, or pharmacist about how your "
        "medication is going?"
    ):
        (
            "¿Qué le ayuda a sentirse en confianza para contarle a su médico, enfermera o farmacéutico cómo le va "
            "con su medicamento?"
        ),
    "What has helped you feel more confident in your own decisions about your treatment?":
        "¿Qué le ha ayudado a sentirse más seguro de sus propias decisiones sobre su tratamiento?",
    "What would you like the people close to you to know about how your medication supports you?":
        "¿Qué le gustaría que supieran las personas cercanas sobre cómo le apoya su medicamento?",
    "If you'd like to share, how has your mood been over the past few days?":
        "Si quiere compartir, ¿cómo ha estado su ánimo en los últimos días?",
    "What is one thing you've done recently that was kind to your own mind?":
        "¿Qué ha hecho recientemente que haya sido bueno para su mente?",
    "What helps you get through a day when your energy or mood is low?":
        "¿Qué le ayuda a pasar un día en que tiene poca energía o el ánimo bajo?",
    "What has helped you get some rest on nights when sleep doesn't come easily?":
        "¿Qué le ha ayudado a descansar en las noches en que le cuesta dormir?",
    "When worry or a low mood shows up, what is one thing that helps you feel a little more grounded?":
        "Cuando llegan la preocupación o la tristeza, ¿qué le ayuda a sentirse un poco más en tierra firme?",
    "What would you want someone to understand about how a hard day feels for you?":
        "¿Qué le gustaría que alguien entendiera sobre cómo se siente un día difícil para usted?",
    "Who in your life, or on your care team, do you feel you can talk to about how you're really doing?":
        "¿Con quién de su vida, o de su equipo de atención, siente que puede hablar de cómo está de verdad?",
    "What have you noticed about your mental health since you started focusing on your recovery?":
        "¿Qué ha notado en su salud mental desde que empezó a enfocarse en su recuperación?",
    "If you feel up to it, what is one feeling you've been carrying that you haven't had a chance to name yet?":
        "Si se siente con ánimo, ¿qué sentimiento ha venido cargando y todavía no ha tenido oportunidad de nombrar?",
    "Check-in: if you'd like, share one word for how you're arriving today. Passing is always okay.":
        "Para empezar: si quiere, comparta una palabra sobre cómo llega hoy. Siempre puede pasar.",
    "Check-in: on a scale from 1 to 10, how is your energy today? Just the number is plenty.":
        "Para empezar: del 1 al 10, ¿cómo está su energía hoy? Con el número basta.",
    "What is one caring thing you did for yourself this week, however small?":
        "¿Qué hizo esta semana para cuidarse, aunque haya sido algo pequeño?",
    "If you'd like to share, which coping skill has been the most useful to you lately?":
        "Si quiere compartir, ¿qué forma de sobrellevar las cosas le ha servido más últimamente?",
    "When things feel overwhelming, what is a simple thing you can do in the next five minutes to feel steadier?":
        (
            "Cuando todo se siente demasiado, ¿qué cosa sencilla puede hacer en los próximos cinco minutos para "
            "sentirse más estable?"
        ),
    "What is a strength you've relied on to get through tough times before?":
        "¿En qué fortaleza suya se ha apoyado antes para salir de momentos difíciles?",
    "If a friend were facing what you're facing right now, what might you gently say to them?":
        "Si una amistad estuviera pasando por lo mismo que usted ahora, ¿qué le diría con cariño?",
    "What activities, big or small, help you feel more like yourself these days?":
        "¿Qué actividades, grandes o pequeñas, le ayudan a sentirse más usted mismo estos días?",
    "Check-out: as we wrap up, is there one thing from today's session you'd like to take with you?":
        "Para cerrar: antes de terminar, ¿hay algo de la sesión de hoy que le gustaría llevarse?",
    "Check-out: if you'd like, share one word for how you're leaving today's session.":
        "Para cerrar: si quiere, comparta una palabra sobre cómo se va de la sesión de hoy.",
    "If you'd like to share, what is one thing someone close to you has done that helped you feel supported?":
        "Si quiere compartir, ¿qué ha hecho alguien cercano que le hizo sentirse apoyado?",
    "What is one quality you appreciate in someone in your family, or in someone who feels like family?":
        "¿Qué cualidad valora de alguien de su familia, o de alguien que siente como familia?",
    "For family members here today: what has helped you look after yourself while supporting someone you love?":
        (
            "Para los familiares que están hoy aquí: ¿qué les ha ayudado a cuidarse mientras apoyan a alguien que "
            "quieren?"
        ),
    "What does a good day together look like for your family, even a simple one?":
        "¿Cómo es un buen día en familia para ustedes, aunque sea algo sencillo?",
    "What is one thing about your recovery journey that you'd like to share with the people closest to you?":
        "¿Qué le gustaría compartir de su camino de recuperación con las personas más cercanas?",
    "What helps conversations at home feel calmer and more open for everyone?":
        "¿Qué ayuda a que las conversaciones en casa sean más tranquilas y abiertas para todos?",
    "What is one small way your family could notice and celebrate progress together?":
        "¿De qué manera sencilla podría su familia notar y celebrar juntos los avances?",
    "If you'd like to share, what is a happy memory or tradition with someone you care about?":
        "Si quiere compartir, ¿qué recuerdo feliz o tradición tiene con alguien que le importa?",
    "What kind of support from the people in your life feels most helpful to you right now?":
        "¿Qué tipo de apoyo de las personas en su vida le sirve más ahora mismo?",
    "For everyone here, family or not: what does trust look like to you as it grows over time?":
        "Para todos, familia o no: ¿cómo se ve para ustedes la confianza cuando va creciendo con el tiempo?",
    "Check-in: what is one thing you're hoping to get out of today's session?":
        "Para empezar: ¿qué le gustaría llevarse de la sesión de hoy?",
    "What is one small, doable goal you'd like to set for yourself this coming week?":
        "¿Qué meta pequeña y posible le gustaría ponerse para esta semana?",
    "When you think about your recovery, what matters most to you right now?":
        "Cuando piensa en su recuperación, ¿qué es lo que más le importa ahora mismo?",
    "Looking back, what is one change you've made that you feel proud of?":
        "Mirando hacia atrás, ¿de qué cambio que ha hecho se siente orgulloso?",
    "If things keep moving in a good direction, what do you picture your life looking like six months from now?":
        "Si las cosas siguen yendo por buen camino, ¿cómo imagina su vida dentro de seis meses?",
    "In your own words, what are your reasons for the changes you're working on?":
        "Con sus propias palabras, ¿cuáles son sus razones para los cambios en los que está trabajando?",
    (
        "If you rated how important your current goal is on a scale of 1 to 10, what makes it that number and not a "
        "lower one?"
    ):
        "Si del 1 al 10 calificara qué tan importante es su meta actual, ¿por qué ese número y no uno más bajo?",
    "What is one thing that could help you take the next step toward something you care about?":
        "¿Qué podría ayudarle a dar el siguiente paso hacia algo que le importa?",
    "Check-out: what is one intention you'd like to carry with you until we meet again?":
        "Para cerrar: ¿qué intención le gustaría llevar consigo hasta que nos volvamos a ver?",
    "If you'd like to share, how has your body been feeling over the past few days?":
        "Si quiere compartir, ¿cómo se ha sentido su cuerpo en los últimos días?",
    "When a craving shows up, what do you notice first, and what tends to happen next?":
        "Cuando llegan las ganas, ¿qué nota primero y qué suele pasar después?",
    "Think of a craving that came and then passed. What did you do, or tell yourself, while you waited it out?":
        (
            "Piense en unas ganas que llegaron y luego pasaron. ¿Qué hizo, o qué se dijo, mientras esperaba a que "
            "se fueran?"
        ),
    "On a scale of 0 to 10, how strong have the cravings felt this week, and what keeps it from being higher?":
        "Del 0 al 10, ¿qué tan fuertes se han sentido las ganas esta semana, y qué hace que no sean más altas?",
    "What has helped you sleep, eat or rest a little better while your body adjusts?":
        "¿Qué le ha ayudado a dormir, comer o descansar un poco mejor mientras su cuerpo se ajusta?",
    "Getting through withdrawal is hard work. What has carried you through the hardest hours so far?":
        "Pasar por la abstinencia es un trabajo duro. ¿Qué le ha sostenido en las horas más difíciles hasta ahora?",
    "Which times of day do cravings tend to be loudest for you, and what could you plan for those times?":
        "¿A qué horas del día se le hacen más fuertes las ganas, y qué podría planear para esos momentos?",
    "Who could you reach out to the next time a strong craving comes, and what would you want them to know?":
        (
            "¿A quién podría buscar la próxima vez que lleguen unas ganas fuertes, y qué le gustaría que esa "
            "persona supiera?"
        ),
    "What questions would you like to bring to your prescriber or nurse about how you have been feeling?":
        "¿Qué preguntas le gustaría llevarle a quien le receta o a su enfermera sobre cómo se ha sentido?",
    "It sounds like part of you wants relief right now and part of you wants to keep going. What does each part say?":
        (
            "Parece que una parte de usted quiere alivio ahora mismo y otra parte quiere seguir adelante. ¿Qué dice "
            "cada parte?"
        ),
    "What would you like to remember about this week's cravings the next time one arrives?":
        "¿Qué le gustaría recordar de las ganas de esta semana para la próxima vez que lleguen?",
    "What has surprised you, if anything, about how your body and mind have responded lately?":
        "¿Qué le ha sorprendido, si algo, de cómo han respondido su cuerpo y su mente últimamente?",
    "If things went the way you hope, what would your life look like a year from now?":
        "Si las cosas salieran como usted espera, ¿cómo sería su vida dentro de un año?",
    "In your own words, what are your reasons for wanting this change? Take all the time you need.":
        (
            "Con sus propias palabras, ¿cuáles son sus razones para querer este cambio? Tómese todo el tiempo que "
            "necesite."
        ),
    "On a scale of 0 to 10, how important is this change to you right now, and why that number and not a lower one?":
        (
            "Del 0 al 10, ¿qué tan importante es para usted este cambio ahora mismo, y por qué ese número y no uno "
            "más bajo?"
        ),
    (
        "On a scale of 0 to 10, how confident are you that you could make this change, and what would move you one "
        "point higher?"
    ):
        "Del 0 al 10, ¿qué tan seguro se siente de poder hacer este cambio, y qué le haría subir un punto?",
    "You kept coming back, even in a week that was hard. What does that say about what matters to you?":
        "Usted siguió viniendo, incluso en una semana difícil. ¿Qué dice eso de lo que le importa?",
    "What worries you most, if anything, about things staying the way they are?":
        "¿Qué es lo que más le preocupa, si algo, de que las cosas sigan como están?",
    "What might be better for you, or for the people you care about, if you made this change?":
        "¿Qué podría mejorar para usted, o para las personas que quiere, si hiciera este cambio?",
    "What have you already tried that worked, even a little, and what did it teach you about yourself?":
        "¿Qué ha intentado ya que le funcionó, aunque fuera un poco, y qué le enseñó sobre usted mismo?",
    "It sounds like part of you wants things to change and part of you isn't sure yet. How does that fit for you?":
        "Parece que una parte de usted quiere que las cosas cambien y otra todavía no está segura. ¿Le suena así?",
    "If you were to sum up today in a sentence or two, what stands out for you, and what would you add?":
        "Si resumiera el día de hoy en una o dos frases, ¿qué le llama la atención y qué agregaría?",
    "What is one first step you feel ready to take this week, however small it is?":
        "¿Qué primer paso se siente listo para dar esta semana, por pequeño que sea?",
    "If you decided to go ahead, how would you go about it, and what strengths would you bring to it?":
        "Si decidiera seguir adelante, ¿cómo lo haría y qué fortalezas pondría en ello?",

}


_MIN_PROMPTS_PER_CATEGORY = 5
_MIN_TEXT_LENGTH = 20
_MAX_TEXT_LENGTH = 300


def validate() -> None:
    """Check the library's invariants; raise ValueError on the first problem.

    Checks that every category key in PROMPTS is known, every category has at
    least five prompts, no text appears twice, every text is between 20
    and 300 characters long, and every prompt (and only they) has its Spanish.
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
    if set(SPANISH) != seen:
        raise ValueError(f"Prompts without their Spanish, or Spanish without a prompt: {set(SPANISH) ^ seen}")
    for spanish in SPANISH.values():
        if not _MIN_TEXT_LENGTH <= len(spanish) <= _MAX_TEXT_LENGTH:
            raise ValueError(f"Spanish prompt length {len(spanish)} is outside the bounds: {spanish!r}")
    for key in PromptCategory.values:
        if counts[key] < _MIN_PROMPTS_PER_CATEGORY:
            raise ValueError(
                f"Category {key!r} has {counts[key]} prompts; "
                f"at least {_MIN_PROMPTS_PER_CATEGORY} are required"
            )
