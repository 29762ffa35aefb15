"""What a rejected import reports: one entry per bad row (1-based row number + reason)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RowError:
    row: int  # 1-based line (CSV) or transaction index (OFX); 0 = the file as a whole
    reason: str

    def as_dict(self) -> dict:
        return {"row": self.row, "reason": self.reason}


class ImportRejected(ValueError):
    """The file cannot be imported; nothing was stored. ``errors`` lists the bad rows."""

    MAX_REPORTED = 100

    def __init__(self, errors: list[RowError]):
        if not errors:
            raise ValueError("ImportRejected needs at least one error")
        self.errors = errors
        first = errors[0]
        where = f"row {first.row}" if first.row else "file"
        super().__init__(f"{len(errors)} problem(s); first at {where}: {first.reason}")

    def reported(self) -> list[dict]:
        return [e.as_dict() for e in self.errors[: self.MAX_REPORTED]]


def file_error(reason: str) -> ImportRejected:
    return ImportRejected([RowError(0, reason)])
