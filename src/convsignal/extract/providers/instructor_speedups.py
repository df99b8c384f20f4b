"""Two pieces of instructor's per-call work, done once instead of on every call.

1. The async-validator check, remembered per response model.

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

2. The one-tool-call adapter of the Anthropic tools handler. For every answer,
`AnthropicToolsHandler._parse_tool_response` builds `TypeAdapter(Annotated[list[Any],
Field(min_length=1, max_length=1)])`, a constant, to check that exactly one tool call came
back; pydantic generates a core schema each time: 9% of the client's CPU at concurrency 64
(eval/bench_llm.py, py-spy). `install()` gives that module a `TypeAdapter` that hands out
one adapter per distinct `Annotated[list[Any], ...]` (keyed by its repr, which spells out
every constraint) and builds anything else as before. TypeAdapters are immutable once built,
so sharing one changes no answer.
"""

from __future__ import annotations

import importlib
import weakref
from collections.abc import Callable
from typing import Annotated, Any, get_args, get_origin

_SITES = ("instructor.v2.validation.async_validators", "instructor.v2.core.patch")
_NAME = "reject_async_validators"
_MARK = "__convsignal_remembers__"
_ADAPTER_SITE = "instructor.v2.providers.anthropic.handlers"


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


def shared_list_adapters(factory: Callable[..., Any]) -> Callable[..., Any]:
    """`factory` (pydantic's `TypeAdapter`), built once per `Annotated[list[Any], ...]`."""
    built: dict[str, Any] = {}

    def adapter(type_: Any, *args: Any, **kwargs: Any) -> Any:
        if args or kwargs or get_origin(type_) is not Annotated:
            return factory(type_, *args, **kwargs)
        if get_args(type_)[0] != list[Any]:
            return factory(type_)
        key = repr(type_)
        found = built.get(key)
        if found is None:
            found = built[key] = factory(type_)
        return found

    setattr(adapter, _MARK, True)
    adapter.__wrapped__ = factory  # type: ignore[attr-defined]
    return adapter


def install() -> bool:
    """Patch instructor's call sites once; True if the validator check is (now) patched."""
    _install_adapter()
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


def _install_adapter() -> bool:
    try:
        module = importlib.import_module(_ADAPTER_SITE)
    except ImportError:
        return False
    factory = getattr(module, "TypeAdapter", None)
    if factory is None:
        return False
    if not getattr(factory, _MARK, False):
        setattr(module, "TypeAdapter", shared_list_adapters(factory))  # noqa: B010
    return True
