//! Generates the client from the committed `openapi/openapi.json` on every build, so the
//! client cannot drift from the spec (and the spec is checked against the server by the
//! api crate's snapshot test).
//!
//! progenitor reads OpenAPI 3.0, and our document is 3.1. The generator gets a 3.0 copy:
//! - `type: [T, "null"]` becomes `type: T, nullable: true`; a `oneOf` with a `null` arm
//!   becomes the other arm, nullable; `propertyNames` (3.1 only) goes;
//! - an optional parameter is `Option<T>` already, so its schema loses `null`; a header
//!   parameter loses its length and pattern (progenitor would make the caller build a
//!   validating newtype for `Idempotency-Key`; the server checks the value anyway);
//! - problem answers (`application/problem+json`) are described as `application/json`, the
//!   one media type whose bodies progenitor types;
//! - progenitor types one success and one error shape per operation: where statuses
//!   disagree, the body-less ones (`204` from the job lease, `304` from an artifact
//!   download) are left out, and the client answers them as `Error::UnexpectedResponse`,
//!   whose status the caller reads.

use std::{collections::BTreeSet, path::Path};

use serde_json::{Map, Value};

const SPEC: &str = "../../openapi/openapi.json";

fn main() {
    println!("cargo:rerun-if-changed={SPEC}");
    println!("cargo:rerun-if-changed=build.rs");
    let text = std::fs::read_to_string(SPEC).expect("the committed OpenAPI document is readable");
    let mut spec: Value = serde_json::from_str(&text).expect("the OpenAPI document is JSON");
    as_openapi_3_0(&mut spec);
    let spec: openapiv3::OpenAPI =
        serde_json::from_value(spec).expect("the 3.0 copy is an OpenAPI 3.0 document");
    let tokens = progenitor_impl::Generator::default()
        .generate_tokens(&spec)
        .expect("progenitor generates the client");
    let file = syn::parse2(tokens).expect("the generated client parses");
    let out = Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("client.rs");
    std::fs::write(out, prettyplease::unparse(&file)).expect("OUT_DIR is writable");
}

/// Turns our 3.1 document into the 3.0 form progenitor reads (see the module comment).
fn as_openapi_3_0(spec: &mut Value) {
    spec["openapi"] = "3.0.3".into();
    if let Some(license) = spec["info"]["license"].as_object_mut() {
        license.remove("identifier");
    }
    nullable_as_3_0(spec);
    let Some(paths) = spec["paths"].as_object_mut() else {
        return;
    };
    for operation in paths
        .values_mut()
        .filter_map(Value::as_object_mut)
        .flat_map(|item| item.values_mut().filter_map(Value::as_object_mut))
    {
        if let Some(parameters) = operation
            .get_mut("parameters")
            .and_then(Value::as_array_mut)
        {
            for parameter in parameters.iter_mut() {
                let header = parameter.get("in").is_some_and(|place| place == "header");
                let Some(schema) = parameter.get_mut("schema").and_then(Value::as_object_mut)
                else {
                    continue;
                };
                schema.remove("nullable");
                if header {
                    for constraint in ["minLength", "maxLength", "pattern"] {
                        schema.remove(constraint);
                    }
                }
            }
        }
        if let Some(responses) = operation
            .get_mut("responses")
            .and_then(Value::as_object_mut)
        {
            problem_json_as_json(responses);
            one_shape_per_class(responses, true);
            one_shape_per_class(responses, false);
        }
    }
}

/// Rewrites 3.1 nullability (`null` in a type list or a `oneOf`) as 3.0's `nullable`, and
/// drops `propertyNames`, everywhere in the document.
fn nullable_as_3_0(value: &mut Value) {
    match value {
        Value::Object(object) => {
            let is_null = |v: &Value| v == "null" || v.get("type").is_some_and(|t| t == "null");
            if let Some(Value::Array(types)) = object.get("type") {
                let others: Vec<Value> = types.iter().filter(|t| !is_null(t)).cloned().collect();
                if others.len() < types.len() {
                    object.insert("nullable".into(), true.into());
                }
                if let [only] = others.as_slice() {
                    object.insert("type".into(), only.clone());
                }
            }
            if let Some(Value::Array(arms)) = object.get("oneOf") {
                let others: Vec<Value> = arms.iter().filter(|a| !is_null(a)).cloned().collect();
                if others.len() < arms.len() {
                    object.remove("oneOf");
                    let key = if others.len() == 1 { "allOf" } else { "oneOf" };
                    object.insert(key.into(), Value::Array(others));
                    object.insert("nullable".into(), true.into());
                }
            }
            object.remove("propertyNames");
            object.values_mut().for_each(nullable_as_3_0);
        }
        Value::Array(items) => items.iter_mut().for_each(nullable_as_3_0),
        _ => {}
    }
}

/// Describes `application/problem+json` answers as `application/json`: progenitor types only
/// `application/json` bodies (any other is a raw byte stream), and a problem document is JSON
/// (reqwest decodes it whatever the content type says).
fn problem_json_as_json(responses: &mut Map<String, Value>) {
    for content in responses
        .values_mut()
        .filter_map(|response| response.get_mut("content"))
        .filter_map(Value::as_object_mut)
    {
        if let Some(problem) = content.remove("application/problem+json") {
            content.insert("application/json".into(), problem);
        }
    }
}

/// Where the success (or the error) statuses of an operation carry different shapes, keeps
/// the ones with a body.
fn one_shape_per_class(responses: &mut Map<String, Value>, success: bool) {
    let class: Vec<String> = responses
        .keys()
        .filter(|status| status.starts_with('2') == success)
        .cloned()
        .collect();
    let shapes: BTreeSet<String> = class
        .iter()
        .map(|status| {
            responses[status]
                .get("content")
                .map(Value::to_string)
                .unwrap_or_default()
        })
        .collect();
    if shapes.len() > 1 {
        for status in class {
            if responses[&status].get("content").is_none() {
                responses.remove(&status);
            }
        }
    }
}
