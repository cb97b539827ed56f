"""OpenAI's fine-tuning dialect over the LoRA jobs: one job model, two dialects (as batches).

A ``ftjob-…`` is an adapter trained by :class:`~tokenfactory.lora.service.LoraService`, plus
what only this dialect has (its file ids, suffix, metadata), kept in ``fine_tuning_jobs``.
Its ``fine_tuned_model`` is the adapter's name, served by that name once the job succeeds.
"""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from ..core.validation import parse_body
from ..errors import InvalidRequestError, ResourceNotFoundError
from ..store import Principal, Store
from ..wire.adapters import AdapterCreate
from ..wire.fine_tuning import FineTuningJobCreate, SupervisedHyperparameters
from .dataset import TrainingDataError, parse_jsonl
from .repository import AdapterRecord

if TYPE_CHECKING:
    from .service import LoraService

SCHEMA = """
CREATE TABLE IF NOT EXISTS fine_tuning_jobs (
    id TEXT PRIMARY KEY,
    adapter_id TEXT NOT NULL UNIQUE,
    workspace_id TEXT NOT NULL,
    training_file TEXT NOT NULL,
    validation_file TEXT,
    suffix TEXT,
    metadata TEXT,
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS fine_tuning_jobs_ws ON fine_tuning_jobs(workspace_id);
"""

#: AdapterCreate's fields as this dialect names them
OUR_NAMES = {
    "epochs": "hyperparameters.n_epochs",
    "batch_size": "hyperparameters.batch_size",
    "rank": "hyperparameters.rank",
    "alpha": "hyperparameters.alpha",
    "dropout": "hyperparameters.dropout",
    "base_model": "model",
}
BASE_LEARNING_RATE = 2e-4
DEFAULT_EPOCHS = 3
DEFAULT_BATCH_SIZE = 4


@contextlib.contextmanager
def our_names() -> Iterator[None]:
    """A 400 about an adapter field names it as this dialect calls it."""
    try:
        yield
    except InvalidRequestError as exc:
        if exc.param in OUR_NAMES:
            ours = OUR_NAMES[exc.param]
            exc.message = exc.message.replace(f"'{exc.param}'", f"'{ours}'")
            exc.param = ours
        raise


def learning_rate(multiplier: float | str) -> float:
    rate = BASE_LEARNING_RATE * (1.0 if multiplier == "auto" else float(multiplier))
    if not 1e-4 <= rate <= 1e-3:
        raise InvalidRequestError(
            f"learning_rate_multiplier {multiplier} gives a learning rate of {rate:g}; LoRA "
            f"here trains at 1e-4..1e-3 (multipliers 0.5..5 of {BASE_LEARNING_RATE:g})",
            param="hyperparameters.learning_rate_multiplier",
        )
    return rate


def chosen_hyperparameters(body: FineTuningJobCreate) -> SupervisedHyperparameters:
    """``method.supervised.hyperparameters`` (the current API) over the legacy top-level ones."""
    if body.method is not None and body.method.supervised.hyperparameters.model_fields_set:
        return body.method.supervised.hyperparameters
    return body.hyperparameters or SupervisedHyperparameters()


def openai_job_id(store: Store, adapter_id: str) -> str | None:
    """The ``ftjob-…`` id of the job that trains ``adapter_id``, if it was created in OpenAI's
    dialect (its webhook events name that id, as OpenAI's do)."""
    store.ensure_schema("fine_tuning", SCHEMA)
    row = store.one("SELECT id FROM fine_tuning_jobs WHERE adapter_id = ?", (adapter_id,))
    return str(row["id"]) if row else None


class FineTuningJobs:
    def __init__(self, service: LoraService) -> None:
        self.service = service
        self.store = service.repository.store
        self.store.ensure_schema("fine_tuning", SCHEMA)

    # -- create ----------------------------------------------------------------------------
    def create(
        self,
        principal: Principal,
        body: FineTuningJobCreate,
        training: bytes,
        validation: bytes | None,
    ) -> tuple[dict[str, Any], AdapterRecord]:
        """Validate both files, then create, fill and start the LoRA job behind a ``ftjob``."""
        examples = parse_jsonl(training, purpose="training")
        if validation is not None:
            parse_jsonl(validation, minimum=1, purpose="validation")
        hp = chosen_hyperparameters(body)
        adapter = self._adapter_body(body, hp)
        with our_names():
            record = self.service.create(principal, adapter)
        # the ftjob row exists before training starts: a job that fails at once is still
        # named by its ftjob id in its webhook event
        job_id = "ftjob-" + uuid.uuid4().hex[:24]
        self.store.execute(
            "INSERT INTO fine_tuning_jobs VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                job_id,
                record.id,
                principal.workspace.id,
                body.training_file,
                body.validation_file,
                body.suffix,
                json.dumps(body.metadata) if body.metadata is not None else None,
                time.time(),
            ),
        )
        try:
            self._check_lengths(principal, record.base_model, training, examples)
            self.service.upload(principal, record.name, training, "training")
            if validation is not None:
                self.service.upload(principal, record.name, validation, "validation")
            record = self.service.start(principal, record.name)
        except Exception:
            self.store.execute("DELETE FROM fine_tuning_jobs WHERE id = ?", (job_id,))
            self.service.repository.delete(record.id)
            raise
        return self.job(principal, job_id)

    def _adapter_body(
        self, body: FineTuningJobCreate, hp: SupervisedHyperparameters
    ) -> AdapterCreate:
        fields = {
            "name": self._adapter_name(body.suffix),
            "base_model": body.model,
            "epochs": DEFAULT_EPOCHS if hp.n_epochs == "auto" else hp.n_epochs,
            "batch_size": DEFAULT_BATCH_SIZE if hp.batch_size == "auto" else hp.batch_size,
            "learning_rate": learning_rate(hp.learning_rate_multiplier),
            "seed": body.seed or 0,
            **{k: v for k in ("rank", "alpha", "dropout") if (v := getattr(hp, k)) is not None},
        }
        with our_names():
            return parse_body(AdapterCreate, fields)

    def _adapter_name(self, suffix: str | None) -> str:
        tail = uuid.uuid4().hex[:8]
        return f"ft-{suffix}-{tail}" if suffix else f"ft-{tail}"

    def _check_lengths(
        self, principal: Principal, base: str, data: bytes, examples: list[list[dict[str, str]]]
    ) -> None:
        """Every example must fit the base model's context (line numbers as the file has them)."""
        from ..services.tokenize import TokenizeService
        from ..wire.tokenize import TokenizeRequest

        counter = TokenizeService(self.service.core)
        numbers = [n for n, line in enumerate(data.decode().split("\n"), 1) if line.strip()]
        problems: list[tuple[int | None, str]] = []
        for number, messages in zip(numbers, examples, strict=True):
            count = counter.tokenize(
                TokenizeRequest(model=base, messages=messages, add_generation_prompt=False),
                principal,
            )
            if count.max_model_len is not None and count.count > count.max_model_len:
                problems.append(
                    (number, f"{count.count} tokens; {base} takes {count.max_model_len}")
                )
        if problems:
            raise TrainingDataError(
                f"{len(problems)} example(s) are longer than the base model's context",
                problems,
                "training_file",
            )

    # -- read ------------------------------------------------------------------------------
    def job(self, principal: Principal, job_id: str) -> tuple[dict[str, Any], AdapterRecord]:
        row = self.store.one(
            "SELECT * FROM fine_tuning_jobs WHERE id = ? AND workspace_id = ?",
            (job_id, principal.workspace.id),
        )
        if row is None:
            raise ResourceNotFoundError(
                f"No fine-tuning job found with id '{job_id}'", code="fine_tuning_job_not_found"
            )
        return row, self.service.repository.reload(row["adapter_id"])

    def jobs(
        self, principal: Principal, after: str | None, limit: int
    ) -> list[tuple[dict[str, Any], AdapterRecord]]:
        """Newest first; ``after`` is the id of the last job of the previous page."""
        sql = "SELECT * FROM fine_tuning_jobs WHERE workspace_id = ?"
        params: tuple = (principal.workspace.id,)
        if after:
            cursor, _ = self.job(principal, after)
            sql += " AND rowid < (SELECT rowid FROM fine_tuning_jobs WHERE id = ?)"
            params += (cursor["id"],)
        rows = self.store.all(sql + " ORDER BY rowid DESC LIMIT ?", (*params, limit))
        return [(row, self.service.repository.reload(row["adapter_id"])) for row in rows]

    async def cancel(
        self, principal: Principal, job_id: str
    ) -> tuple[dict[str, Any], AdapterRecord]:
        _, record = self.job(principal, job_id)
        await self.service.cancel(principal, record.name)
        return self.job(principal, job_id)

    def events(self, principal: Principal, job_id: str) -> list[dict[str, Any]]:
        _, record = self.job(principal, job_id)
        return self.service.repository.events(record.id)
