from enum import StrEnum


class StepOutcome(StrEnum):
    FAILED = "failed"
    SKIPPED = "skipped"
    SUCCEEDED = "succeeded"

    def __str__(self) -> str:
        return str(self.value)
