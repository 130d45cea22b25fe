"""The three ways a mapping evaluation can end other than with a payload.

They are deliberately unrelated classes: the sync engine treats them very differently
(skip and record, fail one object, pause the whole sync), so an ``except`` for one must
never catch another by inheritance.
"""

from __future__ import annotations


class SkipObject(Exception):  # authentik's name (not ...Error): mappings use it unchanged
    """Raised by a mapping to leave this object out of the sync, with an optional reason."""

    def __init__(self, *args: object, mapping: str | None = None) -> None:
        super().__init__(*args)
        # Filled in by the engine so the recorded reason can say which file skipped.
        self.mapping = mapping

    @property
    def reason(self) -> str:
        return str(self) or f"skipped by mapping {self.mapping or '?'}"


class ObjectError(Exception):
    """Raised by a mapping to mark this one object as failed with a readable message.

    Unlike any other exception, it does not mean the mapping is broken: the other objects
    keep syncing (e.g. a user whose email domain is not verified in the tenant).
    """

    def __init__(self, *args: object, mapping: str | None = None) -> None:
        super().__init__(*args)
        self.mapping = mapping

    @property
    def message(self) -> str:
        return str(self) or f"rejected by mapping {self.mapping or '?'}"


class MappingConfigError(Exception):
    """A mapping cannot be compiled or crashed: a configuration error that pauses the sync.

    ``mapping`` is the file's name (``user/10-base.py``), ``line`` the line number within
    that file (None when unknown), ``message`` what went wrong.
    """

    def __init__(
        self, mapping: str, line: int | None, message: str, *, kind: str | None = None
    ) -> None:
        self.mapping = mapping
        self.line = line
        self.message = message
        self.kind = kind
        super().__init__(str(self))

    def __reduce__(self) -> tuple[object, ...]:
        # Exceptions are pickled by queue workers; rebuild from our own fields, not args.
        return (type(self), (self.mapping, self.line, self.message), {"kind": self.kind})

    def __str__(self) -> str:
        where = self.mapping if self.line is None else f"{self.mapping}, line {self.line}"
        return f"{where}: {self.message}"
