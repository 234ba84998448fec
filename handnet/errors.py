"""The one family of errors that handnet raises for bad input.

Every message is one line that names the file (or argument), the field and what was
expected, so the CLI can print it as it is, without a traceback.
"""


class HandnetError(Exception):
    """Bad input: a spec, a data file, a saved network, an argument or a unit reference."""


class SpecError(HandnetError):
    """A spec file that cannot be compiled. ``problems`` lists every problem found."""

    def __init__(self, message: str, problems: list[str] | None = None):
        self.problems = list(problems) if problems else [message]
        super().__init__(message)


class DataError(HandnetError):
    """A data file or directory that cannot be read as MNIST."""


class NetworkFileError(HandnetError):
    """A saved network (.npz) that cannot be loaded."""


class UnitError(HandnetError):
    """A unit reference such as ``edges:upper_bar`` that names no unit."""


class OutputError(HandnetError):
    """An output path that would destroy something: a device, a folder, an input of the same command."""


class ResourceError(HandnetError):
    """A request that would need more memory or time than handnet allows (see docs/limits.md)."""


def reason(error: BaseException) -> str:
    """An exception as a short phrase for a one-line message: its text, or its kind when it has none."""
    text = " ".join(str(error).split())
    if isinstance(error, KeyError) and error.args:
        text = f"missing {error.args[0]!r}"
    return text[:200] if text else type(error).__name__
