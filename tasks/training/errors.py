"""One error type with a stable code, so the CLI and tests tell failures apart by code."""


class TrainingError(Exception):
    """A failure the operator of the pipeline should read: `code` names it, the message explains."""

    def __init__(self, code: str, message: str, cause: BaseException | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.__cause__ = cause
