//! Build plans written as a Bitbucket Pipelines subset:
//!
//! ```yaml
//! pipelines:
//!   default:
//!     - step:
//!         name: Build
//!         script:
//!           - make
//!         artifacts:
//!           - dist/app.tar.gz
//!   branches:
//!     'release/*':
//!       - step: { name: Release build, script: [make release], max-time: 30 }
//! ```
//!
//! Keys outside the subset that only tune Bitbucket's own runners (`image`, `caches`,
//! `services`, `size`, `clone`, `options`, `definitions`) are accepted and ignored; constructs
//! that would change what runs (`parallel`, `pipe`, `custom`, `tags`, …) are refused with the
//! line they are on, so a plan never silently runs less than it says.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::{
    aggregate::project::{BuildPlan, BuildStep},
    names::glob_matches,
};

/// Why a pipelines document cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{message}", line.map(|l| format!("line {l}: ")).unwrap_or_default())]
pub struct PipelineError {
    /// The 1-based line the problem is on, when known.
    pub line: Option<usize>,
    /// What is wrong.
    pub message: String,
}

#[derive(Debug, Deserialize)]
struct Document {
    pipelines: Pipelines,
    // Runner tuning that does not change what runs.
    #[serde(default, rename = "image")]
    _image: Option<yaml_serde::Value>,
    #[serde(default, rename = "options")]
    _options: Option<yaml_serde::Value>,
    #[serde(default, rename = "clone")]
    _clone: Option<yaml_serde::Value>,
    #[serde(default, rename = "definitions")]
    _definitions: Option<yaml_serde::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Pipelines {
    #[serde(default)]
    default: Option<Vec<Item>>,
    /// Branch glob → steps, in document order.
    #[serde(default)]
    branches: Option<yaml_serde::Mapping>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Item {
    step: Step,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Step {
    #[serde(default)]
    name: Option<String>,
    script: Vec<String>,
    #[serde(default)]
    artifacts: Vec<String>,
    /// Minutes, as Bitbucket counts them.
    #[serde(default, rename = "max-time")]
    max_time: Option<u64>,
    #[serde(default, rename = "image")]
    _image: Option<yaml_serde::Value>,
    #[serde(default, rename = "caches")]
    _caches: Option<yaml_serde::Value>,
    #[serde(default, rename = "services")]
    _services: Option<yaml_serde::Value>,
    #[serde(default, rename = "size")]
    _size: Option<yaml_serde::Value>,
}

fn error_from(err: yaml_serde::Error) -> PipelineError {
    let line = err.location().map(|location| location.line());
    // The location is reported separately; keep the message free of a second copy.
    let message = err.to_string();
    let message = match message.find(" at line ") {
        Some(at) => message[..at].to_owned(),
        None => message,
    };
    PipelineError { line, message }
}

fn parse(yaml: &str) -> Result<Document, PipelineError> {
    yaml_serde::from_str(yaml).map_err(error_from)
}

fn steps(items: Vec<Item>, what: &str) -> Result<BuildPlan, PipelineError> {
    if items.is_empty() {
        return Err(PipelineError {
            line: None,
            message: format!("{what} has no steps"),
        });
    }
    let steps = items
        .into_iter()
        .enumerate()
        .map(|(index, item)| {
            let step = item.step;
            if step.script.is_empty() {
                return Err(PipelineError {
                    line: None,
                    message: format!("{what}, step {}: the script is empty", index + 1),
                });
            }
            Ok(BuildStep {
                name: step.name.unwrap_or_else(|| format!("Step {}", index + 1)),
                script: step.script.join("\n"),
                artifacts: step.artifacts,
                environment: BTreeMap::new(),
                timeout_seconds: step.max_time.map(|minutes| minutes * 60),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(BuildPlan { steps })
}

fn branch_items(branches: yaml_serde::Mapping) -> Result<Vec<(String, Vec<Item>)>, PipelineError> {
    branches
        .into_iter()
        .map(|(pattern, items)| {
            let pattern = pattern
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| PipelineError {
                    line: None,
                    message: "branch patterns must be strings".into(),
                })?;
            let items: Vec<Item> = yaml_serde::from_value(items).map_err(|err| PipelineError {
                line: None,
                message: format!("branches '{pattern}': {}", error_from(err).message),
            })?;
            Ok((pattern, items))
        })
        .collect()
}

/// Checks a document: it parses, every pipeline in it has steps with scripts.
pub fn validate(yaml: &str) -> Result<(), PipelineError> {
    let document = parse(yaml)?;
    let pipelines = document.pipelines;
    if pipelines.default.is_none() && pipelines.branches.is_none() {
        return Err(PipelineError {
            line: None,
            message: "pipelines needs `default` or `branches`".into(),
        });
    }
    if let Some(items) = pipelines.default {
        steps(items, "the default pipeline")?;
    }
    for (pattern, items) in branch_items(pipelines.branches.unwrap_or_default())? {
        steps(items, &format!("the pipeline of branches '{pattern}'"))?;
    }
    Ok(())
}

/// The plan for `branch`: the pipeline of an exactly matching branch, else of the first
/// matching glob in document order, else the default one.
pub fn plan_for_branch(yaml: &str, branch: &str) -> Result<BuildPlan, PipelineError> {
    let document = parse(yaml)?;
    let pipelines = document.pipelines;
    let mut branches = branch_items(pipelines.branches.unwrap_or_default())?;
    let exact = branches.iter().position(|(pattern, _)| pattern == branch);
    let chosen = exact.or_else(|| {
        branches
            .iter()
            .position(|(pattern, _)| glob_matches(pattern, branch))
    });
    match (chosen, pipelines.default) {
        (Some(index), _) => {
            let (pattern, items) = branches.swap_remove(index);
            steps(items, &format!("the pipeline of branches '{pattern}'"))
        }
        (None, Some(items)) => steps(items, "the default pipeline"),
        (None, None) => Err(PipelineError {
            line: None,
            message: format!("no pipeline applies to branch {branch} and there is no default"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: &str = r#"
image: rust:1
pipelines:
  default:
    - step:
        name: Test
        caches: [cargo]
        script:
          - cargo test
          - cargo build --release
        artifacts:
          - target/release/app
  branches:
    'release/*':
      - step:
          name: Release
          max-time: 30
          script: [make release]
    main:
      - step:
          script: [make main]
"#;

    #[test]
    fn default_pipeline_for_other_branches() {
        let plan = plan_for_branch(SEED, "feature/x").unwrap();
        assert_eq!(plan.steps.len(), 1);
        assert_eq!(plan.steps[0].name, "Test");
        assert_eq!(plan.steps[0].script, "cargo test\ncargo build --release");
        assert_eq!(
            plan.steps[0].artifacts,
            vec!["target/release/app".to_owned()]
        );
        assert_eq!(plan.steps[0].timeout_seconds, None);
    }

    #[test]
    fn branch_pipelines_by_exact_name_then_glob() {
        let main = plan_for_branch(SEED, "main").unwrap();
        assert_eq!(main.steps[0].name, "Step 1");
        assert_eq!(main.steps[0].script, "make main");
        let release = plan_for_branch(SEED, "release/1.2").unwrap();
        assert_eq!(release.steps[0].name, "Release");
        assert_eq!(release.steps[0].timeout_seconds, Some(1800));
    }

    #[test]
    fn bad_documents_name_the_line() {
        let broken = "pipelines:\n  default:\n    - step:\n        script: [a\n";
        let err = validate(broken).unwrap_err();
        assert!(err.line.is_some(), "{err}");
        let parallel = "pipelines:\n  default:\n    - parallel:\n        - step: {script: [a]}\n";
        let err = validate(parallel).unwrap_err();
        assert_eq!(err.line, Some(3), "{err}");
        assert!(err.message.contains("parallel"), "{err}");
        let no_script = "pipelines:\n  default:\n    - step:\n        name: x\n";
        let err = validate(no_script).unwrap_err();
        assert!(err.message.contains("script"), "{err}");
        assert!(err.to_string().starts_with("line "), "{err}");
    }

    #[test]
    fn a_document_without_pipelines_is_refused() {
        assert!(validate("image: x\n").is_err());
        assert!(validate("pipelines: {}\n").is_err());
        assert!(
            plan_for_branch(
                "pipelines:\n  branches:\n    main:\n      - step: {script: [a]}\n",
                "dev"
            )
            .is_err()
        );
    }
}
