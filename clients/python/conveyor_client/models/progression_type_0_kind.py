from enum import StrEnum


class ProgressionType0Kind(StrEnum):
    ALL = "all"

    def __str__(self) -> str:
        return str(self.value)
