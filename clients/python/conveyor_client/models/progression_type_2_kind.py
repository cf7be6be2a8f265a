from enum import StrEnum


class ProgressionType2Kind(StrEnum):
    OPTIONAL = "optional"

    def __str__(self) -> str:
        return str(self.value)
