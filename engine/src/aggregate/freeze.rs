//! Freeze windows: times when deployments into an environment are refused unless someone with
//! the `freeze:override` scope overrides with a reason.

use std::str::FromStr;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::refuse;
use crate::{error::DomainError, names::ProjectName};

/// When a freeze holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum FreezeWindow {
    /// From `start` (inclusive) to `end` (exclusive).
    OneOff {
        /// Start.
        start: DateTime<Utc>,
        /// End.
        end: DateTime<Utc>,
    },
    /// From each time a cron expression names, in a time zone's wall clock, for a duration.
    Recurring {
        /// Five fields: minute hour day-of-month month day-of-week (names such as `Fri` work).
        cron: String,
        /// How long each window lasts, in minutes.
        duration_minutes: u32,
        /// IANA time zone, e.g. `Europe/Berlin`.
        timezone: String,
    },
}

fn schedule(cron: &str) -> Result<cron::Schedule, DomainError> {
    // The cron crate wants a seconds field first.
    cron::Schedule::from_str(&format!("0 {cron}")).map_err(|err| {
        DomainError::new(
            "invalid-freeze",
            format!("cron expression {cron:?} is not valid: {err}"),
        )
    })
}

fn timezone(name: &str) -> Result<chrono_tz::Tz, DomainError> {
    name.parse::<chrono_tz::Tz>().map_err(|_| {
        DomainError::new(
            "invalid-freeze",
            format!("{name:?} is not an IANA time zone"),
        )
    })
}

impl FreezeWindow {
    /// Checks the window is well formed.
    pub fn validate(&self) -> Result<(), DomainError> {
        match self {
            FreezeWindow::OneOff { start, end } => {
                if end <= start {
                    return refuse("invalid-freeze", "a freeze must end after it starts");
                }
            }
            FreezeWindow::Recurring {
                cron,
                duration_minutes,
                timezone: zone,
            } => {
                if cron.split_whitespace().count() != 5 {
                    return refuse(
                        "invalid-freeze",
                        "cron takes five fields: minute hour day-of-month month day-of-week",
                    );
                }
                schedule(cron)?;
                timezone(zone)?;
                if *duration_minutes == 0 {
                    return refuse("invalid-freeze", "duration_minutes must be at least 1");
                }
            }
        }
        Ok(())
    }

    /// Whether the window holds at `now`.
    pub fn active_at(&self, now: DateTime<Utc>) -> bool {
        match self {
            FreezeWindow::OneOff { start, end } => *start <= now && now < *end,
            FreezeWindow::Recurring {
                cron,
                duration_minutes,
                timezone: zone,
            } => {
                let (Ok(schedule), Ok(zone)) = (schedule(cron), timezone(zone)) else {
                    return false;
                };
                // The latest window that could still hold began at most `duration` ago: take
                // the first occurrence after that, in the zone's wall clock (so DST moves the
                // window with the clock), and see whether it has begun.
                let since =
                    (now - Duration::minutes(i64::from(*duration_minutes))).with_timezone(&zone);
                schedule
                    .after(&since)
                    .next()
                    .is_some_and(|start| start.with_timezone(&Utc) <= now)
            }
        }
    }
}

/// A freeze on an environment, for every project or one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Freeze {
    /// Its id.
    pub id: Uuid,
    /// Only this project (every project when absent).
    pub project: Option<ProjectName>,
    /// When it holds.
    pub window: FreezeWindow,
    /// Why.
    pub reason: String,
    /// Whether rollbacks are frozen too.
    #[serde(default)]
    pub applies_to_rollback: bool,
}

impl Freeze {
    /// Whether it stops a deployment of `project` (of kind rollback or not) at `now`.
    pub fn stops(&self, project: &ProjectName, rollback: bool, now: DateTime<Utc>) -> bool {
        self.project.as_ref().is_none_or(|p| p == project)
            && (!rollback || self.applies_to_rollback)
            && self.window.active_at(now)
    }
}

/// Who overrode a freeze and why, recorded on the deployment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FreezeOverride {
    /// Who.
    pub by: String,
    /// Why.
    pub reason: String,
}
