"""The read path, independent of any web framework: who the caller is to the owner
(:mod:`.target`), and what the caller may see of the owner's calendar, redacted,
rendered and cached (:mod:`.events`). The JSON handlers and the portal's pages both call
these, so there is one place where audiences are decided and answers assembled.
"""

from proxy.reads.events import Reader
from proxy.reads.target import Target, find_user, resolve_target

__all__ = ["Reader", "Target", "find_user", "resolve_target"]
