"""One check of instructor's, remembered per response model instead of redone per call.

instructor 1.17 calls `reject_async_validators(response_model)` up to seven times per
request (preparing the model, the retry loop, parsing), and each call walks the model's
whole type tree: every field, every nested model, the whole MRO. For convsignal's
`ConversationSignals` that walk was about a third of the client's CPU per conversation at
concurrency 64 (eval/bench_llm.py: 3.3 → 2.4 ms per conversation once remembered).

The check is a pure function of the class: it raises if a model declares an async
validator, else returns None. So a class that passed once passes again; we remember the
classes that passed (weakly: a class that goes away is forgotten) and call the original for
anything else, so a class with an async validator is still rejected, every time.

Applied by `install()`, which the LLM extractor calls before building its client. It patches
the one module attribute every call site reads (`instructor.v2.validation.async_validators`)
and the one module that imported the name at load time (`instructor.v2.core.patch`). If a
future instructor moves or renames the function, `install()` does nothing and returns False:
slower, never wrong.
"""

from __future__ import annotations

import importlib
import weakref
from collections.abc import Callable
from typing import Any

_SITES = ("instructor.v2.validation.async_validators", "instructor.v2.core.patch")
_NAME = "reject_async_validators"
_MARK = "__convsignal_remembers__"


def remembering(check: Callable[[Any], None]) -> Callable[[Any], None]:
    """`check`, skipped for classes it has already passed."""
    passed: weakref.WeakSet[type] = weakref.WeakSet()

    def remembered(response_model: Any) -> None:
        if isinstance(response_model, type):
            try:
                if response_model in passed:
                    return
            except TypeError:  # not weak-referenceable: never remembered
                check(response_model)
                return
            check(response_model)
            passed.add(response_model)
            return
        check(response_model)

    setattr(remembered, _MARK, True)
    remembered.__wrapped__ = check  # type: ignore[attr-defined]
    return remembered


def install() -> bool:
    """Patch instructor's call sites once; True if they are (now) patched."""
    try:
        modules = [importlib.import_module(name) for name in _SITES]
    except ImportError:
        return False
    original = getattr(modules[0], _NAME, None)
    if original is None or not callable(original):
        return False
    if getattr(original, _MARK, False):
        return True
    fast = remembering(original)
    for module in modules:
        if getattr(module, _NAME, None) is original:
            setattr(module, _NAME, fast)
    return True
