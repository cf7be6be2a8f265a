//! The event log's records decoded into the engine's typed events: every record is decoded as
//! each aggregate's events and folded into that aggregate's state, and all of them are applied
//! in order to one read model, as the engine's log follower does. Input: one record per line,
//! `<stream>\t<type>\t<payload JSON>` (see `conveyor_fuzz::records`).
#![no_main]

use conveyor_engine::aggregate::{
    self, Aggregate, build::BuildState, deployment::DeploymentState, environment::EnvironmentState,
    integration::IntegrationState, lifecycle::LifecycleState, project::ProjectState,
    push::PushState, release::ReleaseState, subscription::SubscriptionState,
};
use conveyor_engine::model::ReadModel;
use conveyor_engine::status::StatusEvent;
use conveyor_fuzz::records;
use conveyor_store::Record;
use libfuzzer_sys::fuzz_target;

/// Folds every record that decodes as `A`'s events into one `A`.
fn fold<A: Aggregate>(records: &[Record]) {
    let mut state = A::default();
    for record in records {
        if let Some(event) = aggregate::decode::<A::Event>(&record.event_type, &record.payload) {
            state = state.evolve(&event);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let records = records(data);
    fold::<BuildState>(&records);
    fold::<DeploymentState>(&records);
    fold::<EnvironmentState>(&records);
    fold::<IntegrationState>(&records);
    fold::<LifecycleState>(&records);
    fold::<ProjectState>(&records);
    fold::<PushState>(&records);
    fold::<ReleaseState>(&records);
    fold::<SubscriptionState>(&records);
    for record in &records {
        let _ = aggregate::decode::<StatusEvent>(&record.event_type, &record.payload);
    }
    let mut model = ReadModel::default();
    for record in &records {
        model.apply(record);
    }
});
