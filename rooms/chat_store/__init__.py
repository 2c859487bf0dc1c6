"""The chat store: how chat.send, the room's hot write path, reaches the database.

chat.send runs for every message of every room, so its transaction is written
out (rooms.chat_store.base) rather than built by the ORM, in three steps behind
one interface (`ChatStore`), whatever the database:

1. the room (`CLAIM_ROOM_SQL`): UPDATE the room row's `last_seq`, RETURNING what
   the rules read. The UPDATE takes the room's lock and allocates the seq in one
   statement. A refusal raises inside the transaction, which rolls the seq back.
2. the sender: the participant, their host's name (a guest's label), their
   send history (two instants, not one row per send) and the room's admitted
   guests (who among the guests may see the message); on PostgreSQL also the
   message's id, drawn from its sequence. With a `txn_id`, also the message the
   sender already stored with it (`FIND_SENT_SQL`: a resend), in the same round trip.
3. `insert_message`: INSERT the message; a message to the room also counts in its
   sender's participation (`participation`, the counters' one owner).

On PostgreSQL (rooms.chat_store.postgresql) a message costs two round trips
after its BEGIN: 1 and 2 leave together, and 3 (one statement) leaves with the
COMMIT; the statements are prepared on each connection (DB_PREPARED_STATEMENTS).
(psycopg sends the BEGIN ahead of them with a Sync of its own and waits for it,
so that it knows the transaction's state: a third round trip. tests/test_chat_store.py
reads them in libpq's trace.) A batch (group commit,
rooms.actions.chat.do_send_chats) takes the same steps, each statement covering
every message of it, in as many round trips for the whole batch. On SQLite
(rooms.chat_store.sqlite) the same statements run one at a time.

The rules, the rendering, the event and the hooks stay with the domain
(rooms.actions.chat); this package knows nothing of them.
"""

from __future__ import annotations

from django.db import connection

from rooms.chat_store.base import ChatStore
from rooms.chat_store.postgresql import PostgreSQLChatStore
from rooms.chat_store.sqlite import SQLiteChatStore

# The one place that looks at which database runs (config.env configures PostgreSQL or SQLite).
STORES: dict[str, ChatStore] = {"postgresql": PostgreSQLChatStore(), "sqlite": SQLiteChatStore()}


def chat_store() -> ChatStore:
    """The store of the database Django is connected to."""
    return STORES[connection.vendor]
