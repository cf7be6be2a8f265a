from enum import StrEnum


class JobKind(StrEnum):
    BUILD = "build"
    DEPLOYMENT = "deployment"

    def __str__(self) -> str:
        return str(self.value)
