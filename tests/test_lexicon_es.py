"""Table tests for moderation.lexicon in Spanish, and in Spanish mixed with English.

Every message is scanned for both languages whatever its sender's language,
so these go through the same ``scan`` as the English table in test_lexicon.py.
"""

from __future__ import annotations

from collections import Counter

import pytest

from moderation.lexicon import EXCERPT_MAX, KINDS, scan

ELLIPSIS = "…"

# (id, message, expected kind)
MUST_ALERT = [
    # --- suicide ---------------------------------------------------------
    ("ya-no-quiero-vivir", "Ya no quiero vivir", "suicide"),
    ("me-quiero-morir", "me quiero morir", "suicide"),
    ("me-kiero-morir", "me kiero morir ya", "suicide"),
    ("quiero-matarme-repeated", "quiero matarmee", "suicide"),
    ("me-voy-a-matar", "Me voy a matar, ya no aguanto", "suicide"),
    ("quitarme-la-vida", "Estoy pensando en quitarme la vida", "suicide"),
    ("suisidarme-misspelled", "a veces pienso en suisidarme", "suicide"),
    ("pensamientos-suicidas", "tengo pensamientos suicidas otra vez", "suicide"),
    ("mejor-sin-mi", "todos estarían mejor sin mí", "suicide"),
    ("mejor-sin-mi-no-accent", "todos estarian mejor sin mi, lo se", "suicide"),
    ("dormir-y-no-despertar", "quisiera dormir y no despertar", "suicide"),
    ("soy-una-carga", "siento que soy una carga para mi familia", "suicide"),
    ("aventarme-del-puente", "me quiero aventar del puente", "suicide"),
    ("nadie-me-extranaria", "nadie me extrañaría", "suicide"),
    ("sin-sentido", "ya no le veo sentido a la vida", "suicide"),
    ("quisiera-estar-muerta", "Quisiera estar muerta", "suicide"),
    ("ganas-de-morirme", "tengo ganas de morirme", "suicide"),
    ("cortarme-las-venas", "me voy a cortar las venas", "suicide"),
    ("carta-de-despedida", "ya escribí una carta de despedida", "suicide"),
    ("pegarme-un-tiro", "me voy a pegar un tiro", "suicide"),
    ("caps-accents", "ME QUIERO MORÍR", "suicide"),
    ("no-puedo-mas", "ya no puedo más", "suicide"),
    ("no-razon-para-vivir", "ya no tengo ninguna razón para vivir", "suicide"),
    ("tomarme-todas-las-pastillas", "me voy a tomar todas las pastillas", "suicide"),
    ("mixed-me-quiero-morir", "I can't anymore, me quiero morir", "suicide"),
    ("mixed-ya-no-quiero-vivir", "honestly bro, ya no quiero vivir", "suicide"),
    ("mixed-want-to-matarme", "sometimes I want to matarme", "suicide"),
    ("mixed-kill-myself-in-spanish-sentence", "la neta me quiero kill myself", "suicide"),
    ("veneno-centroamerica", "me voy a tomar las pastillas de curar frijol", "suicide"),
    ("muerte-todo-el-tiempo", "pienso en la muerte todo el tiempo", "suicide"),
    ("planeado-para-matarme", "ya tengo todo planeado para matarme", "suicide"),
    ("no-me-quiero-morir-documented", "no me quiero morir pero ya no puedo más", "suicide"),
    # --- self-harm ---------------------------------------------------------
    ("me-corte-otra-vez", "me corté otra vez", "self_harm"),
    ("me-corte-los-brazos", "anoche me corte los brazos", "self_harm"),
    ("ganas-de-cortarme", "tengo ganas de cortarme", "self_harm"),
    ("me-volvi-a-cortar", "me volví a cortar", "self_harm"),
    ("me-estoy-cortando", "me estoy cortando de nuevo", "self_harm"),
    ("a-proposito", "me lastimo a propósito cuando me siento así", "self_harm"),
    ("hacerme-dano", "quiero hacerme daño", "self_harm"),
    ("quemarme-cigarro", "me quemé con un cigarro", "self_harm"),
    ("hasta-sangrar", "me rasqué hasta sangrar", "self_harm"),
    ("autolesion", "volví a autolesionarme", "self_harm"),
    ("mixed-me-corte", "I did it again, me corté", "self_harm"),
    ("mixed-cutting-otra-vez", "cutting otra vez, sorry", "self_harm"),
    ("me-corto-los-brazos", "me corto los brazos", "self_harm"),
    ("me-estoy-lastimando", "me estoy lastimando otra vez", "self_harm"),
    ("me-corto-misspelled", "me cortoo cuando estoy triste", "self_harm"),
    # --- overdose ----------------------------------------------------------
    ("primo-sobredosis", "mi primo tuvo una sobredosis", "overdose"),
    ("sobredocis-misspelled", "casi me muero de una sobredocis", "overdose"),
    ("sobre-dosis-spaced", "le dio una sobre dosis de fentanilo", "overdose"),
    ("todas-las-pastillas", "me tomé todas las pastillas", "overdose"),
    ("frasco-entero", "me tome un frasco entero de clonazepam", "overdose"),
    ("mezcle-pastillas-alcohol", "mezclé pastillas con alcohol", "overdose"),
    ("narcan", "me dieron narcan en la ambulancia", "overdose"),
    ("me-pase-de-pastillas", "me pasé de pastillas anoche", "overdose"),
    ("se-me-paso-la-mano", "se me pasó la mano con el fentanilo", "overdose"),
    ("demasiadas-pastillas", "me tome demasiadas pastillas", "overdose"),
    ("muchas-pastillas", "anoche me tomé muchas pastillas", "overdose"),
    ("toda-la-caja", "me tomé toda la caja de clonazepam", "overdose"),
    ("mixed-una-sobredosis", "my friend had una sobredosis last night", "overdose"),
    # --- relapse -----------------------------------------------------------
    ("recai", "recaí", "relapse"),
    ("recai-anoche", "Recai anoche, perdón", "relapse"),
    ("volvi-a-tomar", "volví a tomar", "relapse"),
    ("bolvi-a-consumir", "bolvi a consumir", "relapse"),
    ("volvi-a-usar", "volví a usar el fin de semana", "relapse"),
    ("me-meti-coca", "me metí coca", "relapse"),
    ("anduve-en-la-coca", "anduve en la coca todo el fin", "relapse"),
    ("ando-bien-pasado", "ando bien pasado", "relapse"),
    ("unas-chelas", "me tomé unas chelas después del trabajo", "relapse"),
    ("tuve-una-recaida", "tuve una recaída", "relapse"),
    ("estoy-bien-pedo", "estoy bien pedo jaja", "relapse"),
    ("llame-a-mi-dealer", "le llamé a mi dealer", "relapse"),
    ("me-emborrache", "me emborraché en la boda de mi prima", "relapse"),
    ("he-vuelto-a-tomar", "he vuelto a tomar", "relapse"),
    ("fume-mota", "fumé mota ayer", "relapse"),
    ("cai-en-el-vicio", "Caí en el vicio otra vez", "relapse"),
    ("voy-a-recaer", "voy a recaer, lo sé", "relapse"),
    ("hoy-voy-a-tomar", "hoy voy a tomar.", "relapse"),
    ("volvi-al-cristal", "volvi al cristal", "relapse"),
    ("le-di-al-foco", "le di al foco otra vez", "relapse"),
    ("guaros-costa-rica", "me eché unos guaros", "relapse"),
    ("estoy-jendio-puerto-rico", "estoy jendío", "relapse"),
    ("andaba-bolo-centroamerica", "andaba bolo el sábado", "relapse"),
    ("tome-anoche", "tomé anoche y me siento fatal", "relapse"),
    ("dia-uno", "estoy otra vez en el día uno", "relapse"),
    ("guaro-centroamerica", "andaba en el guaro todo el fin", "relapse"),
    ("jale-unas-rayas", "me jalé unas rayas", "relapse"),
    ("perdi-mis-dias", "perdí mis 90 días limpio", "relapse"),
    ("ando-pacheco", "ando bien pacheco", "relapse"),
    ("fume-pasto-puerto-rico", "anoche fumé pasto", "relapse"),
    ("compre-cristal", "compré cristal", "relapse"),
    ("me-inyecte-otra-vez", "me inyecté otra vez", "relapse"),
    ("mixed-volvi-a-tomar", "last night volví a tomar", "relapse"),
    ("mixed-me-puse-pedo", "I went to the party y me puse bien pedo", "relapse"),
    ("casi-recai-documented", "casi recaí el viernes", "relapse"),
]

# Ordinary talk that shares words with the risk phrases and must not alert.
MUST_NOT_ALERT = [
    ("muero-de-risa", "me muero de risa con ese video"),
    ("mataria-por-un-cafe", "mataría por un café ahorita"),
    ("recaida-del-telefono", "la recaída de mi teléfono me tiene harto"),
    ("me-corto-el-pelo", "mañana me corto el pelo"),
    ("me-corte-las-unas", "me corté las uñas"),
    ("muero-de-hambre", "me muero de hambre, ¿a qué hora comemos?"),
    ("muerto-de-cansancio", "estoy muerto de cansancio"),
    ("pelicula-me-mata", "esa película me mata"),
    ("medicina-como-dijo-el-doctor", "tomé mi medicina como me dijo el doctor"),
    ("todas-mis-pastillas-de-la-manana", "me tomé todas mis pastillas de la mañana, como dijo el doctor"),
    ("coca-refresco", "me tomé una coca bien fría"),
    ("trago-de-agua", "me tomé un trago de agua antes de hablar"),
    ("cerveza-sin-alcohol", "me tomé una cerveza sin alcohol en la fiesta"),
    ("se-me-corto-la-llamada", "se me cortó la llamada, perdón"),
    ("se-me-corto", "perdón, se me cortó"),
    ("me-meti-a-banar", "me metí a bañar y llegué tarde"),
    ("me-meti-en-problemas", "me metí en problemas en el trabajo"),
    ("sin-tomar", "llevo 90 días sin tomar, gracias a Dios"),
    ("no-he-vuelto-a-tomar", "no he vuelto a tomar desde enero"),
    ("nunca-mas-volvi", "nunca más volví a consumir"),
    ("no-he-recaido", "no he recaído en dos años"),
    ("miedo-de-recaer", "tengo miedo de recaer en las fiestas"),
    ("prevencion-de-sobredosis", "hablamos de prevención de sobredosis y de la naloxona"),
    ("sobredosis-de-azucar", "mi hija tuvo una sobredosis de azúcar en su fiesta"),
    ("ano-pasado", "el año pasado fue muy difícil"),
    ("pasado-de-peso", "estoy pasado de peso"),
    ("churro-con-chocolate", "me comí un churro con chocolate"),
    ("volvi-a-tomar-clases", "volví a tomar clases de inglés"),
    ("voy-a-tomar-el-camion", "voy a tomar el camión temprano"),
    ("voy-a-tomar-nota", "voy a tomar nota de eso"),
    ("querer-morir-de-verguenza", "me quería morir de la vergüenza"),
    ("matar-estudiando", "me voy a matar estudiando para el examen"),
    ("mama-me-va-a-matar", "mi mamá me va a matar si llego tarde"),
    ("vivir-con-mis-papas", "no quiero vivir con mis papás"),
    ("mejor-sin-mi-ex", "estoy mejor sin mi ex"),
    ("no-puedo-mas-con-el-trafico", "ya no puedo más con este tráfico"),
    ("hasta-la-madre", "estoy hasta la madre del tráfico"),
    ("que-pedo", "¿qué pedo, cómo están?"),
    ("ando-en-moto", "ando en moto desde la mañana"),
    ("caer-en-cuenta", "volví a caer en cuenta de que tengo que llamar a mi padrino"),
    ("toque-electrico", "me di un toque eléctrico con el enchufe"),
    ("gol-en-propia", "me metí un gol en propia puerta"),
    ("decision-no-volver", "tomé la decisión de no volver a tomar"),
    ("tuve-una-caida", "tuve una caída en la calle"),
    ("muero-de-ganas", "me muero de ganas de ver a mis niños"),
    ("dormir-temprano", "no quiero despertar temprano mañana"),
    ("mixed-harmless", "lol me muero de risa, this group is the best"),
    ("kms-spanish", "caminamos unos kms hasta la junta"),
    ("abuelo", "mi abuelo murió el año pasado y lo extraño"),
    ("cortar-cebolla", "me corté el dedo picando cebolla"),
    ("cervezas-para-mi-papa", "compré unas cervezas para mi papá"),
    ("muerte-de-mi-papa", "pienso en la muerte de mi papá"),
    ("copa-de-helado", "me tomé una copa de helado"),
    ("volvi-a-usar-mi-bici", "volví a usar mi bici"),
    ("nunca-me-drogue", "nunca me drogué"),
    ("no-estoy-borracho", "no estoy borracho"),
    ("pastillas-para-la-presion", "tomo muchas pastillas para la presión"),
    ("cancion-para-cortarse-las-venas", "esa canción es para cortarse las venas"),
    ("novia-me-corto", "mi novia me cortó"),
    ("va-a-cortarme", "creo que mi novio va a cortarme"),
    ("volvi-a-tomar-mis-pastillas", "volví a tomar mis pastillas para la presión"),
    ("cristal-ventana", "compré un cristal para la ventana"),
    ("lo-tome-ayer", "el examen? lo tomé ayer"),
    ("dano-en-la-rodilla", "me hice daño en la rodilla jugando futbol"),
    ("lastimando-la-espalda", "me estoy lastimando la espalda con este trabajo"),
    ("craving", "tengo ganas de tomar pero llamé a mi padrino"),
    ("hablamos-de-la-recaida", "hablamos de la recaída en la junta"),
]


@pytest.mark.parametrize(
    ("text", "kind"),
    [pytest.param(text, kind, id=case_id) for case_id, text, kind in MUST_ALERT],
)
def test_alerts(text: str, kind: str) -> None:
    match = scan(text)
    assert match is not None, f"no alert for {text!r}"
    assert match.kind == kind


@pytest.mark.parametrize("text", [pytest.param(text, id=case_id) for case_id, text in MUST_NOT_ALERT])
def test_ordinary_talk_does_not_alert(text: str) -> None:
    assert scan(text) is None


def test_table_sizes_and_every_kind() -> None:
    assert len(MUST_ALERT) >= 40
    assert len(MUST_NOT_ALERT) >= 20
    per_kind = Counter(kind for _, _, kind in MUST_ALERT)
    assert set(per_kind) == set(KINDS)
    assert min(per_kind.values()) >= 5, per_kind
    mixed = [kind for case_id, _, kind in MUST_ALERT if case_id.startswith("mixed-")]
    assert set(mixed) == set(KINDS)  # a switch of language mid-sentence, for every kind
    texts = {text for _, text in MUST_NOT_ALERT}
    for required in ("me muero de risa con ese video", "mataría por un café ahorita"):
        assert required in texts
    ids = [case_id for case_id, *_ in MUST_ALERT + MUST_NOT_ALERT]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize(
    ("accented", "plain"),
    [
        ("Ya no quiero vivir", "ya no quiero vivir"),
        ("recaí", "recai"),
        ("me corté otra vez", "me corte otra vez"),
        ("mezclé pastillas con alcohol", "mezcle pastillas con alcohol"),
    ],
)
def test_with_and_without_accents_alike(accented: str, plain: str) -> None:
    with_accents, without = scan(accented), scan(plain)
    assert with_accents is not None
    assert without is not None
    assert with_accents.kind == without.kind
    assert with_accents.excerpt == accented  # the excerpt keeps the sender's own spelling


FILLER = (
    "Hoy en el grupo hablamos de cómo nos fue en la semana; conté que el trabajo ha estado pesado "
    "y que mi familia viene pronto, ¡qué nervios! "
)


@pytest.mark.parametrize(
    ("trigger", "kind"),
    [
        ("ya no quiero vivir", "suicide"),
        ("me corté otra vez", "self_harm"),
        ("mi primo tuvo una sobredosis", "overdose"),
        ("volví a tomar anoche", "relapse"),
    ],
)
def test_excerpt_from_middle_of_long_spanish_message(trigger: str, kind: str) -> None:
    text = FILLER * 6 + trigger + ". " + FILLER * 6
    match = scan(text)
    assert match is not None
    assert match.kind == kind
    assert len(match.excerpt) <= EXCERPT_MAX
    core = match.excerpt.removeprefix(ELLIPSIS).removesuffix(ELLIPSIS)
    assert core in text  # from the ORIGINAL text, accents kept
    assert trigger in core
    assert match.excerpt.startswith(ELLIPSIS)
    assert match.excerpt.endswith(ELLIPSIS)


def test_excerpt_maps_back_through_decomposed_accents() -> None:
    # "quitarme la vída" typed with combining accents (NFD, as some keyboards
    # send it): the folded text is shorter than the original, the excerpt is
    # still the original's.
    trigger = "Pense\u0301 en quitarme la vi\u0301da"
    text = FILLER * 3 + trigger + " " + FILLER * 3
    match = scan(text)
    assert match is not None
    assert match.kind == "suicide"
    assert "quitarme la vi\u0301da" in match.excerpt
    assert match.excerpt.removeprefix(ELLIPSIS).removesuffix(ELLIPSIS) in text


def test_most_severe_kind_wins_across_languages() -> None:
    match = scan("I relapsed anoche y ya no quiero vivir")
    assert match is not None
    assert match.kind == "suicide"
    assert "ya no quiero vivir" in match.excerpt
