"""Conversations with the LLM gateway, and conversation tests (DESIGN §9).

`GatewayClient` talks to `POST /api/v2/ai/llm/gateway/chat/completions` through the Tools API client's auth,
pacing and retries; `run_turn` is the loop (model ↔ tools, bounded); `load_conversations` reads
`conversations.d/`, `run_conversation` runs one file and checks its expectations; `transcript` is the JSON
record of a conversation, secrets redacted. Tools run through a `ToolRunner` (the tool service's runtime).
The emulator is never imported here: the CLI picks the gateway.
"""

from __future__ import annotations

from reconciler.conversation.execution import Invocation, Outcome, RunnerFactory, ToolRunner, runtimes, stub_handler
from reconciler.conversation.files import (
    DEFAULT_DIRECTORY,
    ConversationSpec,
    ExpectedCall,
    LoadedConversations,
    TurnSpec,
    load_conversations,
)
from reconciler.conversation.gateway import (
    DEFAULT_MODEL,
    GATEWAY_PATH,
    SCRIPT_HEADER,
    Completion,
    GatewayClient,
    ModelToolCall,
)
from reconciler.conversation.loop import (
    DEFAULT_MAX_MODEL_CALLS,
    MAX_MODEL_CALLS_LIMIT,
    ChatGateway,
    Conversation,
    StopReason,
    ToolCallRecord,
    TurnResult,
    check_max_model_calls,
    run_turn,
)
from reconciler.conversation.runner import Failure, FileResult, is_subset, run_conversation
from reconciler.conversation.transcript import transcript
from reconciler.runtime.threads import in_daemon_thread

__all__ = [
    "DEFAULT_DIRECTORY",
    "DEFAULT_MAX_MODEL_CALLS",
    "DEFAULT_MODEL",
    "GATEWAY_PATH",
    "MAX_MODEL_CALLS_LIMIT",
    "SCRIPT_HEADER",
    "ChatGateway",
    "Completion",
    "Conversation",
    "ConversationSpec",
    "ExpectedCall",
    "Failure",
    "FileResult",
    "GatewayClient",
    "Invocation",
    "LoadedConversations",
    "ModelToolCall",
    "Outcome",
    "RunnerFactory",
    "StopReason",
    "ToolCallRecord",
    "ToolRunner",
    "TurnResult",
    "TurnSpec",
    "check_max_model_calls",
    "in_daemon_thread",
    "is_subset",
    "load_conversations",
    "run_conversation",
    "run_turn",
    "runtimes",
    "stub_handler",
    "transcript",
]
