//! Names parsed once at the edge: afterwards the type is the proof that they are valid.

use serde::{Deserialize, Serialize};

use crate::error::EngineError;

fn parse_name(kind: &'static str, raw: &str) -> Result<String, EngineError> {
    let valid_char = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_';
    if raw.is_empty() || raw.len() > 64 {
        return Err(EngineError::invalid(
            kind,
            format!("{kind} must be 1 to 64 characters"),
        ));
    }
    if !raw.chars().all(valid_char) || !raw.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return Err(EngineError::invalid(
            kind,
            format!(
                "{kind} {raw:?} may hold only lowercase letters, digits, '-' and '_', \
                 starting with a letter or digit"
            ),
        ));
    }
    Ok(raw.to_owned())
}

macro_rules! name_type {
    ($(#[$doc:meta])* $name:ident, $kind:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Parses a name: lowercase letters, digits, `-` and `_`, 1 to 64 characters.
            pub fn parse(raw: &str) -> Result<Self, EngineError> {
                parse_name($kind, raw).map(Self)
            }

            /// The name as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

name_type!(
    /// An environment's name, e.g. `production`.
    EnvironmentName,
    "environment"
);
name_type!(
    /// A project's name, e.g. `shop`.
    ProjectName,
    "project"
);
name_type!(
    /// An integration's name, e.g. `bitbucket`.
    IntegrationName,
    "integration"
);
name_type!(
    /// A lifecycle's name, e.g. `standard`.
    LifecycleName,
    "lifecycle"
);

/// Matches `text` against a glob where `*` matches any run of characters and `?` one.
pub fn glob_matches(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    // Classic iterative wildcard matching with backtracking to the last star.
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_accept_lowercase_digits_dash_underscore() {
        assert!(EnvironmentName::parse("prod-eu_1").is_ok());
        assert!(EnvironmentName::parse("Prod").is_err());
        assert!(EnvironmentName::parse("").is_err());
        assert!(ProjectName::parse("-shop").is_err());
        assert!(ProjectName::parse(&"a".repeat(65)).is_err());
    }

    #[test]
    fn globs_match_stars_and_question_marks() {
        assert!(glob_matches("main", "main"));
        assert!(!glob_matches("main", "mainline"));
        assert!(glob_matches("feature/*", "feature/login"));
        assert!(glob_matches("*", "anything/at/all"));
        assert!(glob_matches("release-?", "release-1"));
        assert!(!glob_matches("release-?", "release-10"));
        assert!(glob_matches("a*b*c", "aXXbYYc"));
        assert!(!glob_matches("a*b*c", "aXXbYY"));
    }
}
