//! The OpenAPI 3.1 document, generated from the handlers and wire types by utoipa.

use utoipa::{
    Modify, OpenApi,
    openapi::security::{ApiKey, ApiKeyValue, Http, HttpAuthScheme, SecurityScheme},
};

use crate::routes::*;

/// The whole API.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Conveyor",
        description = "Event-sourced release orchestrator: pushes, builds, releases, deployments, approvals and rollback, all as events in one hash-chained log.\n\nEvery `/api/v1` call needs `Authorization: Bearer <JWT>` whose space-separated `scope` claim holds the scope named by the operation's security requirement (`deploy:<env>` and `approve:<env>` accept `*` for any environment). Errors are RFC 9457 problem+json. Every POST accepts `Idempotency-Key`.",
        license(name = "Apache-2.0")
    ),
    paths(
        operations::healthz, operations::readyz, operations::metrics,
        environments::create_environment, environments::list_environments,
        environments::get_environment, environments::environment_history, environments::environment_state,
        environments::environment_queue,
        lifecycles::create_lifecycle, lifecycles::list_lifecycles, lifecycles::get_lifecycle,
        lifecycles::update_lifecycle,
        environments::add_freeze, environments::remove_freeze,
        environments::rollback_environment,
        projects::create_project, projects::list_projects, projects::get_project,
        projects::update_project,
        builds::create_push, builds::list_builds, builds::get_build, builds::cancel_build,
        releases::create_release, releases::list_releases, releases::get_release,
        releases::deploy_release, releases::block_release, releases::unblock_release,
        retention::run_retention,
        approvals::list_approvals, deployments::list_deployments, deployments::get_deployment,
        deployments::approve_deployment, deployments::cancel_deployment,
        agents::lease_job, agents::heartbeat_job, agents::start_job, agents::report_step,
        agents::report_artifact, agents::complete_job, agents::get_job,
        artifacts::upload_artifact, artifacts::download_artifact,
        logs::append_job_log, logs::get_build_log, logs::get_deployment_log,
        integrations::create_integration, integrations::list_integrations,
        integrations::get_integration, hooks::receive_hook,
        subscriptions::create_subscription, subscriptions::list_subscriptions,
        subscriptions::get_subscription, subscriptions::replay_subscription,
        dashboard::get_dashboard, dashboard::stream_dashboard,
        events::list_events, events::verify_events, events::stream_events,
    ),
    modifiers(&BearerAuth, &PageItemsByReference, &BinaryBodies, &SharedAnswers),
    tags(
        (name = "environments", description = "Deployment targets, their history and rollback"),
        (name = "lifecycles", description = "Shared phases a release moves through, chosen per project by channel"),
        (name = "projects", description = "Deployable applications"),
        (name = "builds", description = "Pushes and builds"),
        (name = "releases", description = "Immutable release snapshots and promotion"),
        (name = "deployments", description = "Deployments and approvals"),
        (name = "agents", description = "The job protocol agents speak"),
        (name = "artifacts", description = "Build outputs, stored by SHA-256"),
        (name = "integrations", description = "Git hosts: webhooks in, build statuses out"),
        (name = "hooks", description = "Webhooks from git hosts, authenticated by their signatures"),
        (name = "subscriptions", description = "The log's events as signed webhooks to other systems"),
        (name = "dashboard", description = "The project × environment grid"),
        (name = "events", description = "The event log, for auditors"),
        (name = "operations", description = "Health and metrics"),
    )
)]
pub struct ApiDoc;

/// Declares the `bearer` JWT security scheme the operations refer to.
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let mut scheme = Http::new(HttpAuthScheme::Bearer);
        scheme.bearer_format = Some("JWT".into());
        scheme.description =
            Some("A JWT whose `scope` claim lists the scopes the operation names.".into());
        components.add_security_scheme("bearer", SecurityScheme::Http(scheme));
        components.add_security_scheme(
            "webhook_signature",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-Hub-Signature-256",
                "The git host's own scheme, checked with the integration's secret: \
                 HMAC-SHA256 of the raw body in `X-Hub-Signature-256` (GitHub) or \
                 `X-Hub-Signature` (Bitbucket), or GitLab's `X-Gitlab-Token`.",
            ))),
        );
    }
}

/// Makes each `Page_<T>` schema refer to `T`'s own schema for its items. utoipa 5 copies a
/// generic parameter's whole schema into every page type (and ignores `inline = false` there),
/// which gave generated clients a duplicate class per page (`PageDeploymentItemsItem` beside
/// `Deployment`).
struct PageItemsByReference;

impl Modify for PageItemsByReference {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{
            Ref, RefOr, Schema,
            schema::{ArrayItems, Object},
        };
        let Some(components) = openapi.components.as_mut() else {
            return;
        };
        let names: Vec<String> = components.schemas.keys().cloned().collect();
        for name in names {
            let Some(item) = name.strip_prefix("Page_") else {
                continue;
            };
            if !components.schemas.contains_key(item) {
                continue;
            }
            let reference = RefOr::Ref(Ref::from_schema_name(item));
            if let Some(RefOr::T(Schema::Object(Object { properties, .. }))) =
                components.schemas.get_mut(&name)
                && let Some(RefOr::T(Schema::Array(array))) = properties.get_mut("items")
            {
                array.items = ArrayItems::RefOrSchema(Box::new(reference));
            }
        }
    }
}

/// The document as committed in `openapi/openapi.json`.
pub fn document_json() -> String {
    let mut text = ApiDoc::openapi().to_pretty_json().unwrap_or_default();
    text.push('\n');
    text
}

/// Describes `application/octet-stream` bodies (artifact bytes) as a binary string, the form
/// generators turn into a byte stream or file, where utoipa would describe `Vec<u8>` as an
/// array of integers.
struct BinaryBodies;

impl Modify for BinaryBodies {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{
            Content, RefOr,
            schema::{KnownFormat, ObjectBuilder, Schema, SchemaFormat, Type},
        };
        const OCTETS: &str = "application/octet-stream";
        let binary = |content: &mut Content| {
            content.schema = Some(RefOr::T(Schema::Object(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
                    .build(),
            )));
        };
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for operation in operations.into_iter().flatten() {
                let body = operation.request_body.as_mut();
                if let Some(bytes) = body.and_then(|body| body.content.get_mut(OCTETS)) {
                    binary(bytes);
                }
                for response in operation.responses.responses.values_mut() {
                    if let RefOr::T(response) = response
                        && let Some(bytes) = response.content.get_mut(OCTETS)
                    {
                        binary(bytes);
                    }
                }
            }
        }
    }
}

/// Declares, on every operation a bearer token authorises, what the shared layers in front of
/// its handler answer, so the handlers' annotations list only their own answers: 401 (the
/// token), 413 for a JSON body (the body limit), and on a POST the `Idempotency-Key` header
/// with its 400 and 422 (the idempotency middleware). An answer an annotation already
/// describes is kept as it is. (415 stays with the handlers: an optional body is read as
/// bytes and never refused for its content type.)
struct SharedAnswers;

impl Modify for SharedAnswers {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{
            Content, Ref, RefOr, Required, ResponseBuilder,
            path::{Operation, ParameterBuilder, ParameterIn},
            schema::{ObjectBuilder, SchemaType, Type},
        };
        let problem = |description: &str| {
            RefOr::T(
                ResponseBuilder::new()
                    .description(description)
                    .content(
                        crate::error::PROBLEM_JSON,
                        Content::new(Some(Ref::from_schema_name("ProblemDetails"))),
                    )
                    .build(),
            )
        };
        let answer = |operation: &mut Operation, status: &str, description: &str| {
            operation
                .responses
                .responses
                .entry(status.to_owned())
                .or_insert_with(|| problem(description));
        };
        let bearer = |operation: &Operation| {
            operation.security.iter().flatten().any(|requirement| {
                serde_json::to_value(requirement).is_ok_and(|value| value.get("bearer").is_some())
            })
        };
        for item in openapi.paths.paths.values_mut() {
            let post = item.post.as_mut().map(|operation| (operation, true));
            let others = [
                &mut item.get,
                &mut item.put,
                &mut item.delete,
                &mut item.patch,
            ]
            .into_iter()
            .flatten()
            .map(|operation| (operation, false));
            for (operation, is_post) in post.into_iter().chain(others) {
                if !bearer(operation) {
                    continue;
                }
                answer(operation, "401", "No valid token");
                let json_body = operation
                    .request_body
                    .as_ref()
                    .is_some_and(|body| body.content.contains_key("application/json"));
                if json_body {
                    answer(operation, "413", "Body larger than the server accepts");
                }
                if !is_post {
                    continue;
                }
                answer(operation, "400", "Malformed Idempotency-Key");
                answer(
                    operation,
                    "422",
                    "An Idempotency-Key reused for another request",
                );
                let parameters = operation.parameters.get_or_insert_with(Vec::new);
                if !parameters.iter().any(|p| p.name == "Idempotency-Key") {
                    parameters.push(
                        ParameterBuilder::new()
                            .name("Idempotency-Key")
                            .parameter_in(ParameterIn::Header)
                            .required(Required::False)
                            .description(Some("Retry key: 1 to 255 visible ASCII characters"))
                            .schema(Some(
                                ObjectBuilder::new()
                                    .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
                                    .min_length(Some(1))
                                    .max_length(Some(255))
                                    .pattern(Some("^[!-~]([ -~]*[!-~])?$")),
                            ))
                            .build(),
                    );
                }
            }
        }
    }
}
