"""``POST /v1/responses`` over the chat service: one path for chat, batch lines and responses.

A Responses request is translated into the chat request it stands for (the conversation
chained through ``previous_response_id``, then its own input) and started on the chat
service, which validates, admits (rate limits, wallet), runs and meters it as it would a chat
completion; the run's answer, or its stream, is translated back, and the finished response is
stored for its workspace unless the request said ``store: false``.

Logprobs (``include: ["message.output_text.logprobs"]``) are chat's: asked for as chat's
``logprobs``/``top_logprobs``, refused as chat refuses them where the engine cannot give them
(the 400 then names ``include``, the field this request set).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..core.endpoints import CHAT
from ..core.run import Run, admitted
from ..errors import InvalidRequestError
from ..wire.chat import ChatCompletion, ChatCompletionRequest
from ..wire.responses import (
    ResponseCreateRequest,
    ResponseObject,
    ResponseStreamEvent,
    StoredInputItem,
)
from .repository import ResponseRepository
from .stream import ResponseEvents
from .translate import answer_of, chat_request, draft, input_items

if TYPE_CHECKING:
    from ..core import Call, Core


class ResponsesService:
    def __init__(self, core: Core, repo: ResponseRepository) -> None:
        self.core = core
        self.repo = repo

    async def start(
        self, req: ResponseCreateRequest, call: Call
    ) -> Run[ResponseObject, ResponseStreamEvent]:
        workspace = call.principal.workspace.id

        own = input_items(req)
        conversation: list[StoredInputItem] = []

        async def translated() -> ChatCompletionRequest:
            if req.previous_response_id:
                conversation.extend(self.repo.chained(req.previous_response_id, workspace))
            conversation.extend(own)
            return chat_request(req, conversation)

        # a refusal here (an unknown previous response) is metered as the chat service's are
        chat = await admitted(self.core, call, req.model, translated)
        try:
            run = await self.core.service(CHAT).start(chat, call)
        except InvalidRequestError as exc:
            if exc.param == "logprobs":  # chat's name for what ``include`` asked
                exc.param = "include"
            raise
        # the model that answers, as chat echoes it (an alias's target)
        response = draft(req).model_copy(update={"model": self.core.real_model(req.model)})

        def keep(done: ResponseObject) -> None:
            if req.store:
                self.repo.save(workspace, done, conversation, own)

        async def answer(completion: ChatCompletion | dict[str, Any]) -> ResponseObject:
            done = answer_of(response, completion)
            keep(done)
            return done

        return run.then(answer, ResponseEvents(response, keep).translate)
