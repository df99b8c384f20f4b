"""PII scrubbing: the only module that sees raw conversation text and the only importer of
presidio and spaCy. What leaves it is a `ScrubbedConversation`."""

from convsignal.scrub.detect import ENTITIES, PiiSpan
from convsignal.scrub.scrubber import Scrubber

__all__ = ["ENTITIES", "PiiSpan", "Scrubber"]
