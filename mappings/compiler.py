"""Compile mapping files (authentik-style Python function bodies) once, into functions.

The body is parsed on its own, so every statement keeps the line number it has in the file,
then grafted into a ``def`` whose parameters are the mapping context. Tracebacks and our
error reports therefore point at the file's own lines, with no offset to fix.
"""

from __future__ import annotations

import ast
import builtins
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mappings.errors import MappingConfigError

# Order matters: the engine calls mapping functions positionally (cheaper than keywords).
PARAMETERS = ("request", "user", "group", "connection", "provider", "SkipObject", "ObjectError")
_WRAPPER = f"def __mapping__({', '.join(PARAMETERS)}):\n    pass\n"


@dataclass(frozen=True, slots=True)
class CompiledMapping:
    """One mapping file, ready to call with the context in ``PARAMETERS`` order."""

    kind: str  # "user" or "group"
    name: str  # "user/10-base.py", what errors and the dashboard show
    path: str  # the file, also the code's co_filename (how we find its frames)
    origin: str  # "default" (shipped) or "custom" (SCIM2ENTRA_MAPPINGS_DIR)
    function: Callable[..., Any]


def compile_mapping(
    source: str, *, kind: str, name: str, path: str, origin: str = "custom"
) -> CompiledMapping:
    """Compile one body; a SyntaxError becomes MappingConfigError with the file's line."""
    try:
        body = ast.parse(source, filename=path).body
        wrapper = ast.parse(_WRAPPER).body[0]
        assert isinstance(wrapper, ast.FunctionDef)
        wrapper.body = body or [ast.Pass()]  # an empty file is a mapping that returns None
        module = ast.Module(body=[wrapper], type_ignores=[])
        code = compile(ast.fix_missing_locations(module), path, "exec")
    except SyntaxError as exc:  # also IndentationError, and compile-time checks
        raise MappingConfigError(name, exc.lineno, f"SyntaxError: {exc.msg}", kind=kind) from exc
    except ValueError as exc:  # e.g. null bytes in the source
        raise MappingConfigError(name, None, f"cannot compile: {exc}", kind=kind) from exc
    namespace: dict[str, Any] = {"__builtins__": builtins, "__name__": f"mapping:{name}"}
    exec(code, namespace)  # defines __mapping__ only; the body runs once per object
    return CompiledMapping(kind, name, path, origin, namespace["__mapping__"])


def load_folder(folder: Path, kind: str, origin: str) -> tuple[CompiledMapping, ...]:
    """All ``*.py`` files of one kind's folder, in file-name order."""
    files = sorted(
        (p for p in folder.iterdir() if p.suffix == ".py" and p.is_file()),
        key=lambda p: p.name,
    )
    # Editors leave hidden files (.#x.py, ._x.py) next to real ones; they are never mappings.
    files = [p for p in files if not p.name.startswith(".")]
    if not files:
        raise MappingConfigError(
            f"{kind}/",
            None,
            f"no *.py mapping files in {folder.name}/ (remove the folder to use the defaults)",
            kind=kind,
        )
    return tuple(_load_file(p, kind, origin) for p in files)


def _load_file(path: Path, kind: str, origin: str) -> CompiledMapping:
    name = f"{kind}/{path.name}"
    try:
        source = path.read_text(encoding="utf-8-sig")  # -sig: tolerate a Windows BOM
    except (OSError, UnicodeDecodeError) as exc:
        raise MappingConfigError(name, None, f"cannot read: {exc}", kind=kind) from exc
    return compile_mapping(source, kind=kind, name=name, path=str(path), origin=origin)


def error_line(exc: BaseException, path: str) -> int | None:
    """Line of the innermost traceback frame that runs code from ``path``.

    Innermost, because a mapping may define and call its own helper functions; frames in
    library code below it are skipped, so the line is the mapping's call into the library.
    """
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == path:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line
