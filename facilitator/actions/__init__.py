"""Facilitation's actions, by concern: the floor and the queue (floor_queue), the floor's turns (turns),
rounds (rounds), prompts and the agenda (prompts_agenda), attendance (attendance).

Every function runs inside the room lock (`rooms.actions.lock_room`), so a grant, a
yield and a hand raise arriving at once through two workers are applied one after
the other and every client hears the same holder and queue. The hands, the queue
and the floor's release are the room core's (rooms.actions.floor); this app grants
the floor and decides what follows its release (its floor-released hook).
"""
