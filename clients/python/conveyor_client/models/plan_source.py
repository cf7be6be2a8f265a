from enum import StrEnum


class PlanSource(StrEnum):
    PROJECT = "project"
    REPOSITORY = "repository"

    def __str__(self) -> str:
        return str(self.value)
