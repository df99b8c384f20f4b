"""The two wire formats the fake server speaks: Anthropic Messages and OpenAI Chat Completions.

Only the stdlib and json: the point of the fake is that the real SDKs (and instructor on top of
them) parse these bodies, so nothing here may borrow the SDKs' own types. Shapes follow
anthropic.types.Message / MessageBatch* and openai.types.chat.ChatCompletion / Batch.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

Api = Literal["anthropic", "openai"]
OutputShape = Literal["tool", "json_schema", "text"]

DEFAULT_KEY_PATTERN = re.compile(r"conversation-key:\s*([^\s<>\"'`]+)")


@dataclass(frozen=True, slots=True)
class RequestInfo:
    """What a responder gets to decide its answer. Holds request text: keep it in memory only."""

    api: Api
    model: str
    system: str
    user_text: str
    key: str | None
    """The conversation key from the marker line (`conversation-key: <id>`), if any."""
    output: OutputShape
    """How the answer goes back: a tool call, a json_schema message, or plain JSON text."""
    tool_name: str | None
    schema: Mapping[str, Any] | None
    """The JSON schema the client asked for (tool input_schema / parameters / json_schema)."""
    max_tokens: int | None
    attempt: int
    """1 for the first request with this key, 2 for the next (a re-ask or a retry), …"""
    body: Mapping[str, Any]
    custom_id: str | None = None
    """Set for requests inside a batch."""


def estimate_tokens(text: str) -> int:
    """A deterministic stand-in for a tokenizer: one token per four characters, rounded up."""
    return max(1, -(-len(text) // 4)) if text else 0


def new_id(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:24]}"


def _block_text(block: Any) -> str:
    if isinstance(block, str):
        return block
    if not isinstance(block, Mapping):
        return ""
    kind = block.get("type")
    if kind == "text":
        return str(block.get("text", ""))
    if kind == "tool_use":
        return json.dumps(block.get("input", {}), sort_keys=True)
    if kind == "tool_result":
        return _content_text(block.get("content", ""))
    return ""


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(_block_text(block) for block in content)
    return ""


def _messages_text(messages: Any, roles: set[str]) -> str:
    if not isinstance(messages, list):
        return ""
    return "\n".join(
        _content_text(m.get("content"))
        for m in messages
        if isinstance(m, Mapping) and m.get("role") in roles
    )


def find_key(text: str, pattern: re.Pattern[str]) -> str | None:
    match = pattern.search(text)
    return match.group(1) if match else None


# ---- Anthropic ------------------------------------------------------------------------------


def anthropic_info(
    body: Mapping[str, Any],
    pattern: re.Pattern[str],
    *,
    attempt: int = 1,
    custom_id: str | None = None,
) -> RequestInfo:
    user_text = _messages_text(body.get("messages"), {"user"})
    tools = body.get("tools") or []
    tool = _anthropic_chosen_tool(tools, body.get("tool_choice"))
    return RequestInfo(
        api="anthropic",
        model=str(body.get("model", "")),
        system=_content_text(body.get("system", "")),
        user_text=user_text,
        key=find_key(user_text, pattern) or custom_id,
        output="tool" if tool is not None else "text",
        tool_name=str(tool.get("name")) if tool is not None else None,
        schema=tool.get("input_schema") if tool is not None else None,
        max_tokens=body.get("max_tokens"),
        attempt=attempt,
        body=body,
        custom_id=custom_id,
    )


def _anthropic_chosen_tool(tools: Any, choice: Any) -> Mapping[str, Any] | None:
    if not isinstance(tools, list) or not tools:
        return None
    if isinstance(choice, Mapping) and choice.get("type") == "none":
        return None
    if isinstance(choice, Mapping) and choice.get("type") == "tool":
        for tool in tools:
            if isinstance(tool, Mapping) and tool.get("name") == choice.get("name"):
                return tool
    first = tools[0]
    return first if isinstance(first, Mapping) else None


def anthropic_input_text(body: Mapping[str, Any]) -> str:
    return "\n".join(
        [
            json.dumps(body.get("tools", []), sort_keys=True),
            _content_text(body.get("system", "")),
            _messages_text(body.get("messages"), {"user", "assistant"}),
        ]
    )


def anthropic_cached_prefix(body: Mapping[str, Any]) -> str | None:
    """Tools and system text up to the last block marked `cache_control`, or None."""
    parts: list[str] = []
    cut: int | None = None
    for tool in body.get("tools") or []:
        parts.append(json.dumps(tool, sort_keys=True))
        if isinstance(tool, Mapping) and tool.get("cache_control"):
            cut = len(parts)
    system = body.get("system")
    if isinstance(system, list):
        for block in system:
            parts.append(_block_text(block))
            if isinstance(block, Mapping) and block.get("cache_control"):
                cut = len(parts)
    return "\n".join(parts[:cut]) if cut else None


def anthropic_message(
    info: RequestInfo,
    answer: Mapping[str, Any],
    *,
    usage: Mapping[str, int],
    truncated: bool = False,
) -> dict[str, Any]:
    content: list[dict[str, Any]]
    if info.output == "tool":
        content = [
            {
                "type": "tool_use",
                "id": new_id("toolu_"),
                "name": info.tool_name,
                "input": {} if truncated else dict(answer),
            }
        ]
        stop_reason = "tool_use"
    else:
        text = json.dumps(answer)
        content = [{"type": "text", "text": text[: len(text) // 2] if truncated else text}]
        stop_reason = "end_turn"
    return {
        "id": new_id("msg_"),
        "type": "message",
        "role": "assistant",
        "model": info.model,
        "content": content,
        "stop_reason": "max_tokens" if truncated else stop_reason,
        "stop_sequence": None,
        "usage": dict(usage),
    }


def anthropic_error(error_type: str, message: str) -> dict[str, Any]:
    return {
        "type": "error",
        "error": {"type": error_type, "message": message},
        "request_id": new_id("req_"),
    }


# ---- OpenAI ---------------------------------------------------------------------------------


def openai_info(
    body: Mapping[str, Any],
    pattern: re.Pattern[str],
    *,
    attempt: int = 1,
    custom_id: str | None = None,
) -> RequestInfo:
    messages = body.get("messages")
    user_text = _messages_text(messages, {"user"})
    system = _messages_text(messages, {"system", "developer"})
    output: OutputShape = "text"
    tool_name: str | None = None
    schema: Mapping[str, Any] | None = None
    tool = _openai_chosen_tool(body.get("tools"), body.get("tool_choice"))
    response_format = body.get("response_format")
    if tool is not None:
        output, tool_name, schema = "tool", str(tool.get("name")), tool.get("parameters")
    elif isinstance(response_format, Mapping) and response_format.get("type") == "json_schema":
        spec = response_format.get("json_schema") or {}
        output, tool_name, schema = "json_schema", spec.get("name"), spec.get("schema")
    max_tokens = body.get("max_completion_tokens", body.get("max_tokens"))
    return RequestInfo(
        api="openai",
        model=str(body.get("model", "")),
        system=system,
        user_text=user_text,
        key=find_key(user_text, pattern) or custom_id,
        output=output,
        tool_name=tool_name,
        schema=schema,
        max_tokens=max_tokens if isinstance(max_tokens, int) else None,
        attempt=attempt,
        body=body,
        custom_id=custom_id,
    )


def _openai_chosen_tool(tools: Any, choice: Any) -> Mapping[str, Any] | None:
    if not isinstance(tools, list) or not tools or choice == "none":
        return None
    functions: list[Mapping[str, Any]] = [
        t["function"]
        for t in tools
        if isinstance(t, Mapping) and isinstance(t.get("function"), Mapping)
    ]
    if isinstance(choice, Mapping) and isinstance(choice.get("function"), Mapping):
        wanted = choice["function"].get("name")
        for function in functions:
            if function.get("name") == wanted:
                return function
    return functions[0] if functions else None


def openai_input_text(body: Mapping[str, Any]) -> str:
    return "\n".join(
        [
            json.dumps(body.get("tools", []), sort_keys=True),
            json.dumps(body.get("response_format", {}), sort_keys=True),
            _messages_text(
                body.get("messages"), {"system", "developer", "user", "assistant", "tool"}
            ),
        ]
    )


def openai_cached_prefix(body: Mapping[str, Any]) -> str | None:
    """OpenAI caches prompt prefixes automatically; the fake counts the system messages."""
    system = _messages_text(body.get("messages"), {"system", "developer"})
    return system or None


def openai_completion(
    info: RequestInfo,
    answer: Mapping[str, Any],
    *,
    usage: Mapping[str, Any],
    truncated: bool = False,
) -> dict[str, Any]:
    text = json.dumps(answer)
    if truncated:
        text = text[: len(text) // 2]
    message: dict[str, Any] = {"role": "assistant", "content": None, "refusal": None}
    if info.output == "tool":
        message["tool_calls"] = [
            {
                "id": new_id("call_"),
                "type": "function",
                "function": {"name": info.tool_name, "arguments": text},
            }
        ]
        forced = isinstance(info.body.get("tool_choice"), Mapping)
        finish_reason = "stop" if forced else "tool_calls"
    else:
        message["content"] = text
        finish_reason = "stop"
    return {
        "id": new_id("chatcmpl-"),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": info.model,
        "choices": [
            {
                "index": 0,
                "message": message,
                "finish_reason": "length" if truncated else finish_reason,
                "logprobs": None,
            }
        ],
        "usage": dict(usage),
        "system_fingerprint": "fp_fake_llm",
    }


def openai_error(error_type: str, message: str, code: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": error_type, "param": None, "code": code}}


# ---- usage ----------------------------------------------------------------------------------

CacheProbe = Callable[[str], bool]
"""prefix → True when it was seen before (a cache read), recording it when not."""


def anthropic_usage(
    body: Mapping[str, Any], output_tokens: int, cache_probe: CacheProbe
) -> dict[str, int]:
    """`input_tokens` excludes cached tokens, as the real API reports them."""
    total = estimate_tokens(anthropic_input_text(body))
    prefix = anthropic_cached_prefix(body)
    created = read = 0
    if prefix:
        cached = min(total, estimate_tokens(prefix))
        if cache_probe(prefix):
            read = cached
        else:
            created = cached
    return {
        "input_tokens": total - created - read,
        "output_tokens": output_tokens,
        "cache_creation_input_tokens": created,
        "cache_read_input_tokens": read,
    }


def openai_usage(
    body: Mapping[str, Any], output_tokens: int, cache_probe: CacheProbe
) -> dict[str, Any]:
    """`prompt_tokens` includes the cached ones, as the real API reports them."""
    total = estimate_tokens(openai_input_text(body))
    prefix = openai_cached_prefix(body)
    cached = min(total, estimate_tokens(prefix)) if prefix and cache_probe(prefix) else 0
    return {
        "prompt_tokens": total,
        "completion_tokens": output_tokens,
        "total_tokens": total + output_tokens,
        "prompt_tokens_details": {"cached_tokens": cached, "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
    }
