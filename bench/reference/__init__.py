"""The reference: the Channels tutorial's chat room (join a group, group_send, send).

No authentication, no storage, no rules. Served by the same server program
(daphne or uvicorn) with the same channel layer configuration as Circle
(config.env.channel_layers_from_url), in its own process, so the bench can put
the two side by side. Circle's own code never imports anything from here.
"""
