"""One exception tree for convsignal.

    ConvSignalError
    ├── ConfigError              bad or missing setting; names the variable to set
    ├── IngestError              a file or record could not be read; names path and record
    ├── ScrubError               PII scrubbing failed; the conversation is not sent anywhere
    ├── ExtractionError          an extractor failed (provider name, original exception)
    │   └── RetriesExhausted     transport/validation retries used up (attempts, usage)
    ├── StoreError               the database refused or is not migrated
    └── ScoringError             bad profile or metrics

Messages never carry conversation text: they name files, records, ids and causes only, so
they are safe to log and to store on a dead-letter row.
"""

from __future__ import annotations


class ConvSignalError(Exception):
    """Root of every error convsignal raises on purpose.

    Picklable with its attributes (a worker process sends them to its parent), except
    `original`, the wrapped third-party exception, which may not pickle and is dropped."""

    def __reduce__(self) -> tuple[object, ...]:
        state = dict(self.__dict__)
        if "original" in state:
            state["original"] = None
        return (_restore, (type(self), self.args, state))


def _restore(
    cls: type[ConvSignalError], args: tuple[object, ...], state: dict[str, object]
) -> ConvSignalError:
    error = cls.__new__(cls, *args)
    error.args = args
    error.__dict__.update(state)
    return error


class ConfigError(ConvSignalError):
    pass


class IngestError(ConvSignalError):
    def __init__(self, message: str, *, path: str, record: str | None = None) -> None:
        self.path = path
        self.record = record
        where = f"{path}:{record}" if record else path
        super().__init__(f"{where}: {message}")


class ScrubError(ConvSignalError):
    pass


class ExtractionError(ConvSignalError):
    """`fatal`: every further call would fail the same way (bad key, unknown model), so the
    run stops instead of dead-lettering every item."""

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        original: BaseException | None = None,
        fatal: bool = False,
    ) -> None:
        self.provider = provider
        self.original = original
        self.fatal = fatal
        super().__init__(f"{provider}: {message}")


class RetriesExhausted(ExtractionError):
    def __init__(
        self, message: str, *, provider: str, attempts: int, usage: dict[str, int] | None = None
    ) -> None:
        self.attempts = attempts
        self.usage = usage or {}
        super().__init__(f"{message} after {attempts} attempts", provider=provider)


class StoreError(ConvSignalError):
    pass


class ScoringError(ConvSignalError):
    pass
