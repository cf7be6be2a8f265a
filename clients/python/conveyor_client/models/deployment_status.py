from enum import StrEnum


class DeploymentStatus(StrEnum):
    AWAITING_APPROVAL = "awaiting_approval"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    FAILED = "failed"
    QUEUED = "queued"
    REJECTED = "rejected"
    REQUESTED = "requested"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    SUPERSEDED = "superseded"
    WAITING = "waiting"

    def __str__(self) -> str:
        return str(self.value)
