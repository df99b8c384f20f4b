"""instructor's async-validator check, remembered per class: same answers, fewer walks."""

from __future__ import annotations

import importlib
from typing import Any

import instructor
import pytest
from pydantic import BaseModel

from convsignal.extract.providers import instructor_speedups
from convsignal.extract.providers.instructor_speedups import install, remembering
from convsignal.extract.schema import ConversationSignals


class Plain(BaseModel):
    value: int


def test_a_class_that_passed_is_not_walked_again_and_others_still_are() -> None:
    walked: list[Any] = []

    def check(model: Any) -> None:
        walked.append(model)
        if getattr(model, "bad", False):
            raise ValueError("async validator")

    fast = remembering(check)
    for _ in range(5):
        fast(Plain)
    assert walked == [Plain]

    class Bad(BaseModel):
        bad: bool = True

    Bad.bad = True  # type: ignore[attr-defined]
    for _ in range(3):
        with pytest.raises(ValueError, match="async validator"):
            fast(Bad)
    assert walked.count(Bad) == 3  # a failing class is checked (and rejected) every time

    fast(list[Plain])  # not a class: never remembered
    fast(list[Plain])
    assert walked.count(list[Plain]) == 2


def test_installed_into_instructor_it_still_rejects_async_validators() -> None:
    assert install()
    assert install()  # idempotent
    validators = importlib.import_module("instructor.v2.validation.async_validators")
    patch = importlib.import_module("instructor.v2.core.patch")
    assert validators.reject_async_validators is patch.reject_async_validators
    assert getattr(validators.reject_async_validators, "__convsignal_remembers__", False)

    class WithAsync(BaseModel):
        value: int

        @validators.async_field_validator("value")  # type: ignore[misc]
        async def check_value(self, value: int) -> int:
            return value

    for _ in range(2):
        with pytest.raises(ValueError, match="async validators"):
            validators.reject_async_validators(WithAsync)
    validators.reject_async_validators(instructor.openai_schema(ConversationSignals))


def test_install_does_nothing_when_instructor_moved_the_function(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(instructor_speedups, "_SITES", ("instructor.no_such_module",))
    assert install() is False


def test_the_one_tool_call_adapter_is_built_once_and_still_checks_the_count() -> None:
    from typing import Annotated

    from pydantic import Field, TypeAdapter, ValidationError

    from convsignal.extract.providers.instructor_speedups import shared_list_adapters

    built: list[Any] = []

    def factory(type_: Any, *args: Any, **kwargs: Any) -> Any:
        built.append(type_)
        return TypeAdapter(type_, *args, **kwargs)

    adapters = shared_list_adapters(factory)
    one = Annotated[list[Any], Field(min_length=1, max_length=1)]
    first = adapters(Annotated[list[Any], Field(min_length=1, max_length=1)])
    assert adapters(one) is first  # an equal type built afresh by the caller: same adapter
    assert len(built) == 1
    with pytest.raises(ValidationError):
        first.validate_python(["a", "b"])  # two tool calls are still refused
    assert first.validate_python(["a"]) == ["a"]

    two = adapters(Annotated[list[Any], Field(min_length=1, max_length=2)])
    assert two is not first  # other constraints: another adapter
    assert two.validate_python(["a", "b"]) == ["a", "b"]
    adapters(int)
    adapters(int)
    assert built.count(int) == 2  # anything else is built every time, as before


def test_installed_into_the_anthropic_tools_handler() -> None:
    assert install()
    handlers = importlib.import_module("instructor.v2.providers.anthropic.handlers")
    assert getattr(handlers.TypeAdapter, "__convsignal_remembers__", False)
