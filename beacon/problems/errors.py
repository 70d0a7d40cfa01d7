"""The error every problem operation raises for input it cannot use."""

from __future__ import annotations


class ProblemError(ValueError):
    """Input that cannot be used, with messages per field (``__all__`` for the form).

    Nothing is stored when it is raised.
    """

    def __init__(self, errors: dict[str, list[str]] | str) -> None:
        if isinstance(errors, str):
            errors = {"__all__": [errors]}
        self.errors = errors
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))

    @property
    def message(self) -> str:
        """Every message, each prefixed with its field, for API answers and flashes."""
        return " ".join(
            (m if field == "__all__" else f"{field}: {m}")
            for field, messages in self.errors.items()
            for m in messages
        )


def fail(field: str, message: str) -> ProblemError:
    """A :class:`ProblemError` about one field."""
    return ProblemError({field: [message]})
