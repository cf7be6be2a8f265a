from enum import StrEnum


class ProgressionType1Kind(StrEnum):
    AT_LEAST = "at_least"

    def __str__(self) -> str:
        return str(self.value)
