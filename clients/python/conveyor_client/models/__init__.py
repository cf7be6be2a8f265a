"""Contains all the data models used in inputs/outputs"""

from .append_log_request import AppendLogRequest
from .approval import Approval
from .approval_decision import ApprovalDecision
from .approval_policy import ApprovalPolicy
from .approval_request import ApprovalRequest
from .approval_rule import ApprovalRule
from .artifact import Artifact
from .artifact_request import ArtifactRequest
from .block_request import BlockRequest
from .build import Build
from .build_status import BuildStatus
from .build_step import BuildStep
from .build_step_environment import BuildStepEnvironment
from .cancel_request import CancelRequest
from .cell_deployment_dto import CellDeploymentDto
from .channel import Channel
from .complete_request import CompleteRequest
from .create_environment_request import CreateEnvironmentRequest
from .create_integration_request import CreateIntegrationRequest
from .create_release_request import CreateReleaseRequest
from .create_subscription_request import CreateSubscriptionRequest
from .dashboard_cell_dto import DashboardCellDto
from .dashboard_dto import DashboardDto
from .dashboard_row import DashboardRow
from .dashboard_row_cells import DashboardRowCells
from .delivery_attempt import DeliveryAttempt
from .delivery_status import DeliveryStatus
from .deploy_request import DeployRequest
from .deployment import Deployment
from .deployment_kind import DeploymentKind
from .deployment_status import DeploymentStatus
from .deployment_step import DeploymentStep
from .deployment_step_environment import DeploymentStepEnvironment
from .environment import Environment
from .environment_holds import EnvironmentHolds
from .environment_state_at import EnvironmentStateAt
from .event import Event
from .freeze import Freeze
from .git_host_dto import GitHostDto
from .hook_accepted import HookAccepted
from .hook_push import HookPush
from .integration import Integration
from .job_assignment import JobAssignment
from .job_kind import JobKind
from .job_outcome import JobOutcome
from .job_status import JobStatus
from .job_variable import JobVariable
from .lease import Lease
from .lease_ref import LeaseRef
from .lease_request import LeaseRequest
from .lifecycle import Lifecycle
from .lifecycle_request import LifecycleRequest
from .lifecycle_stage import LifecycleStage
from .live_release import LiveRelease
from .log_line_dto import LogLineDto
from .log_stream_dto import LogStreamDto
from .page_build import PageBuild
from .page_deployment import PageDeployment
from .page_environment import PageEnvironment
from .page_event import PageEvent
from .page_integration import PageIntegration
from .page_lifecycle import PageLifecycle
from .page_project import PageProject
from .page_queue_entry import PageQueueEntry
from .page_release import PageRelease
from .page_subscription import PageSubscription
from .phase import Phase
from .plan_source import PlanSource
from .problem_details import ProblemDetails
from .problem_details_actual_type_0 import ProblemDetailsActualType0
from .problem_details_expected_type_0 import ProblemDetailsExpectedType0
from .progression_type_0 import ProgressionType0
from .progression_type_0_kind import ProgressionType0Kind
from .progression_type_1 import ProgressionType1
from .progression_type_1_kind import ProgressionType1Kind
from .progression_type_2 import ProgressionType2
from .progression_type_2_kind import ProgressionType2Kind
from .project import Project
from .project_request import ProjectRequest
from .push_accepted import PushAccepted
from .push_request import PushRequest
from .queue_entry import QueueEntry
from .receive_hook_body import ReceiveHookBody
from .release import Release
from .release_lifecycle_dto import ReleaseLifecycleDto
from .resolved_variable import ResolvedVariable
from .retention import Retention
from .retention_run import RetentionRun
from .retention_run_release import RetentionRunRelease
from .rollback_request import RollbackRequest
from .status_report import StatusReport
from .step_outcome import StepOutcome
from .step_request import StepRequest
from .step_result import StepResult
from .stored_artifact import StoredArtifact
from .subscription import Subscription
from .variable import Variable
from .variable_environments import VariableEnvironments
from .verify_result import VerifyResult

__all__ = (
    "AppendLogRequest",
    "Approval",
    "ApprovalDecision",
    "ApprovalPolicy",
    "ApprovalRequest",
    "ApprovalRule",
    "Artifact",
    "ArtifactRequest",
    "BlockRequest",
    "Build",
    "BuildStatus",
    "BuildStep",
    "BuildStepEnvironment",
    "CancelRequest",
    "CellDeploymentDto",
    "Channel",
    "CompleteRequest",
    "CreateEnvironmentRequest",
    "CreateIntegrationRequest",
    "CreateReleaseRequest",
    "CreateSubscriptionRequest",
    "DashboardCellDto",
    "DashboardDto",
    "DashboardRow",
    "DashboardRowCells",
    "DeliveryAttempt",
    "DeliveryStatus",
    "DeployRequest",
    "Deployment",
    "DeploymentKind",
    "DeploymentStatus",
    "DeploymentStep",
    "DeploymentStepEnvironment",
    "Environment",
    "EnvironmentHolds",
    "EnvironmentStateAt",
    "Event",
    "Freeze",
    "GitHostDto",
    "HookAccepted",
    "HookPush",
    "Integration",
    "JobAssignment",
    "JobKind",
    "JobOutcome",
    "JobStatus",
    "JobVariable",
    "Lease",
    "LeaseRef",
    "LeaseRequest",
    "Lifecycle",
    "LifecycleRequest",
    "LifecycleStage",
    "LiveRelease",
    "LogLineDto",
    "LogStreamDto",
    "PageBuild",
    "PageDeployment",
    "PageEnvironment",
    "PageEvent",
    "PageIntegration",
    "PageLifecycle",
    "PageProject",
    "PageQueueEntry",
    "PageRelease",
    "PageSubscription",
    "Phase",
    "PlanSource",
    "ProblemDetails",
    "ProblemDetailsActualType0",
    "ProblemDetailsExpectedType0",
    "ProgressionType0",
    "ProgressionType0Kind",
    "ProgressionType1",
    "ProgressionType1Kind",
    "ProgressionType2",
    "ProgressionType2Kind",
    "Project",
    "ProjectRequest",
    "PushAccepted",
    "PushRequest",
    "QueueEntry",
    "ReceiveHookBody",
    "Release",
    "ReleaseLifecycleDto",
    "ResolvedVariable",
    "Retention",
    "RetentionRun",
    "RetentionRunRelease",
    "RollbackRequest",
    "StatusReport",
    "StepOutcome",
    "StepRequest",
    "StepResult",
    "StoredArtifact",
    "Subscription",
    "Variable",
    "VariableEnvironments",
    "VerifyResult",
)
