"""NUL and lone surrogates on the socket follow the text rule (issue 22; docs/protocol.md "Text").

The frame parser refused any frame whose strings held NUL or an unpaired surrogate,
while the rule (config/text.py clean_text) says control characters are removed and a
text is refused only when nothing visible is left. Now the parser removes the two
characters that can be neither stored nor encoded from every string, the actions clean
the rest, and a ref that could not be echoed is still refused. Tried through a real
consumer: texts with the characters anywhere, texts of nothing else, a reason, a name.
"""

from __future__ import annotations

import pytest

from rooms.models import GuestPass, Message
from tests.conftest import connect_all, pid, set_room
from tests.security_support import reply, send_raw

pytestmark = pytest.mark.django_db(transaction=True)

# JSON escapes as a client sends them, and the text that is stored.
KEPT = [
    ("a\\u0000b", "ab"),
    ("\\u0000hello", "hello"),
    ("hello\\u0000", "hello"),
    ("he\\u0000\\u0000llo", "hello"),
    ("a\\ud800b", "ab"),
    ("a\\udfffb", "ab"),
    ("\\udc00ok\\ud83d", "ok"),
    ("line\\u0000\\r\\nnext", "line\nnext"),
    ("\\ud83d\\ude00 \\u0000", "\U0001f600"),  # a real pair is an emoji, kept
]
NOTHING_VISIBLE = ["\\u0000", "\\u0000\\u0000 ", "\\ud800", "\\udfff\\ud800", "\\u0000\\u200b\\ud800", " \\u0000\\t"]


@pytest.mark.parametrize(("escaped", "stored"), KEPT)
async def test_nul_and_lone_surrogates_are_removed_from_a_message(connect, live_group, dana, alex, escaped, stored):
    await set_room(live_group, mode="open")
    _, alex_peer = await connect_all(connect, live_group, dana, alex)
    await send_raw(alex_peer, '{"type": "chat.send", "ref": "t", "text": "' + escaped + '"}')
    answer = await reply(alex_peer)
    assert answer["type"] == "ack", answer
    assert (await Message.objects.aget(pk=answer["message_id"])).text == stored


@pytest.mark.parametrize("escaped", NOTHING_VISIBLE)
async def test_a_message_of_nothing_visible_is_invalid(connect, live_group, dana, alex, escaped):
    await set_room(live_group, mode="open")
    _, alex_peer = await connect_all(connect, live_group, dana, alex)
    await send_raw(alex_peer, '{"type": "chat.send", "ref": "t", "text": "' + escaped + '"}')
    answer = await reply(alex_peer)
    assert (answer["type"], answer["code"], answer["ref"]) == ("error", "invalid", "t")
    assert not await Message.objects.filter(session=live_group).aexists()


@pytest.mark.parametrize("ref", ["\\u0000", "a\\u0000", "\\ud800", "x\\udfff"])
async def test_a_ref_that_could_not_be_echoed_is_invalid(connect, live_group, alex, ref):
    peer, _ = await connect(alex, live_group.pk)
    await send_raw(peer, '{"type": "ping", "ref": "' + ref + '"}')
    answer = await reply(peer)
    assert (answer["type"], answer["code"], answer["ref"]) == ("error", "invalid", None)


async def test_an_invitation_name_loses_nul_and_lone_surrogates(connect, live_group, dana, alex):
    dana_peer, _ = await connect(dana, live_group.pk)
    alex_id = await pid(live_group, alex)
    name = '"Ma\\u0000ri\\ud800a"'
    frame = f'{{"type": "invite.create", "ref": "i", "for_participant_id": {alex_id}, "name": {name}}}'
    await send_raw(dana_peer, frame)
    answer = await reply(dana_peer)
    assert answer["type"] == "ack", answer
    assert await GuestPass.objects.filter(session=live_group, name="Maria").aexists()
