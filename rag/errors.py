"""Exceptions raised by the core. Only the CLI and the app turn them into messages."""


class RagError(Exception):
    """Base class: the message is meant for the user and says what to do."""


class ModelUnavailableError(RagError):
    pass


class IndexNotFoundError(RagError):
    pass


class IndexMismatchError(RagError):
    pass


class IngestError(RagError):
    """A single document could not be read; carries the path and the reason."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class QueryError(RagError):
    pass


class CorpusError(RagError):
    pass
