from enum import StrEnum


class DeploymentKind(StrEnum):
    DEPLOY = "deploy"
    REDEPLOY = "redeploy"
    ROLLBACK = "rollback"

    def __str__(self) -> str:
        return str(self.value)
