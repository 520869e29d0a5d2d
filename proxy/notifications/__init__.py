"""Change notifications (DESIGN §11): hooks in from the providers, webhooks and streams out.

Out, to calproxy's clients, notifications are thin: ids only, and only what the subscriber
may see. :mod:`.views` decides that with the same access and redaction rules as reads (a
subscriber is one of three viewers of an owner's calendar: full, private hidden, free/busy
only), :mod:`.signing` signs deliveries the Standard Webhooks way, and :mod:`.targets`
refuses webhook URLs that point into the server's own network.
"""
