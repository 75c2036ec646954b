//! A race demo as the TUI follows it: from the writer's first child until every task the race
//! made is finished, counting the claims and rejections of its own tasks for the summary.

use std::collections::HashSet;
use std::time::Duration;

use super::state::RaceSummary;
use crate::core::{Event, EventKind, Task};
use crate::pool::racer::{self, RaceMode, RaceReport};

/// Children a race on screen creates.
pub const ROUNDS: usize = 30;
/// The pause between them: two children a second, so the race lasts about fifteen seconds.
/// Each child writes four events (created, two links, its claim or `claim_rejected`), so the
/// event pane turns over about once a second: slow enough to read a `claim_rejected` line
/// before it scrolls away, and thirty children show the gate firing every time, not once.
pub const PACE: Duration = Duration::from_millis(500);

/// One race, while its writer writes and while the workers finish what it made, as the
/// events tell it: the writer itself runs outside the state machine.
pub struct RaceRun {
    mode: RaceMode,
    /// The event cursor when it started: the race's tasks are the ones created after it.
    since: i64,
    /// The person asked the writer to stop before it reported.
    stopping: bool,
    /// What the writer reported once it was done.
    report: Option<RaceReport>,
    /// The race's tasks seen so far, parents and children.
    tasks: HashSet<String>,
    /// Those of them last seen finished: the view may not hold a finished task.
    finished: HashSet<String>,
    claims: u64,
    rejections: u64,
}

impl RaceRun {
    /// Follows a race's writer, started when the TUI had read every event up to `since`.
    pub fn new(mode: RaceMode, since: i64) -> RaceRun {
        RaceRun {
            mode,
            since,
            stopping: false,
            report: None,
            tasks: HashSet::new(),
            finished: HashSet::new(),
            claims: 0,
            rejections: 0,
        }
    }

    /// Children written, once the writer has reported (the writer counts them live).
    pub fn children(&self) -> usize {
        self.report.as_ref().map_or(0, |report| report.children)
    }

    /// Counts new events: a race task by its `created` event, then its claims and rejections;
    /// `tasks` are fresh copies of the tasks the events name.
    pub fn note<'t>(&mut self, events: &[Event], tasks: impl IntoIterator<Item = &'t Task>) {
        let tasks: Vec<&Task> = tasks.into_iter().collect();
        let made_by_racer: HashSet<&str> = tasks
            .iter()
            .filter(|t| t.created_by.as_deref() == Some(racer::CREATED_BY))
            .map(|t| t.id.as_str())
            .collect();
        let of_race = |id: &str| made_by_racer.contains(id);
        for event in events.iter().filter(|e| e.id > self.since) {
            match event.kind {
                EventKind::Created if of_race(&event.task_id) => {
                    self.tasks.insert(event.task_id.clone());
                }
                EventKind::Claimed if self.tasks.contains(&event.task_id) => self.claims += 1,
                EventKind::ClaimRejected if self.tasks.contains(&event.task_id) => {
                    self.rejections += 1;
                }
                _ => {}
            }
        }
        for task in tasks.iter().filter(|t| self.tasks.contains(&t.id)) {
            if task.status.is_finished() {
                self.finished.insert(task.id.clone());
            } else {
                self.finished.remove(&task.id);
            }
        }
    }

    /// Whether the writer has reported.
    pub fn written(&self) -> bool {
        self.report.is_some()
    }

    /// Takes the writer's report; returns whether the person had asked it to stop.
    pub fn written_by(&mut self, report: RaceReport) -> bool {
        self.report = Some(report);
        self.stopping
    }

    /// Whether the writer is done and every task it made was last seen finished.
    pub fn drained(&self) -> bool {
        let Some(report) = &self.report else {
            return false;
        };
        self.tasks.len() >= report.children + report.parents.len()
            && self.tasks.iter().all(|id| self.finished.contains(id))
    }

    /// Whether the person stopped it before its writer wrote every round.
    pub fn stopped(&self) -> bool {
        self.stopping
    }

    /// Marks the race as stopped by the person; returns whether the writer must be told
    /// (it has not reported, and was not told already).
    pub fn stop(&mut self) -> bool {
        let tell = !self.stopping && self.report.is_none();
        self.stopping = true;
        tell
    }

    /// The summary of what was counted, with the audits' findings at the end.
    pub fn summary(
        &self,
        finished: bool,
        live_violations: usize,
        audit_violations: usize,
    ) -> RaceSummary {
        let (children, links_refused) = self
            .report
            .as_ref()
            .map_or((0, 0), |r| (r.children, r.links_refused));
        RaceSummary {
            mode: self.mode,
            finished,
            children,
            links_refused,
            claims: self.claims,
            rejections: self.rejections,
            live_violations,
            audit_violations,
        }
    }
}
