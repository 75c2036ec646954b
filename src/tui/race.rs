//! A race demo as the TUI follows it: from the writer's first child until every task the race
//! made is finished, counting the claims and rejections of its own tasks for the summary.

use std::collections::HashSet;
use std::time::Duration;

use super::state::RaceSummary;
use crate::core::{BoardError, Event, EventKind, Task};
use crate::pool::racer::{self, RaceMode, RaceReport, Racer};

/// Children a race on screen creates.
pub const ROUNDS: usize = 30;
/// The pause between them: two children a second, so the race lasts about fifteen seconds.
/// Each child writes four events (created, two links, its claim or `claim_rejected`), so the
/// event pane turns over about once a second: slow enough to read a `claim_rejected` line
/// before it scrolls away, and thirty children show the gate firing every time, not once.
pub const PACE: Duration = Duration::from_millis(500);

/// One race, while its writer writes and while the workers finish what it made.
pub struct RaceRun {
    mode: RaceMode,
    /// The event cursor when it started: the race's tasks are the ones created after it.
    since: i64,
    /// The writer, until every round is written.
    writer: Option<Racer>,
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
    /// Follows `writer`, started when the TUI had read every event up to `since`.
    pub fn new(mode: RaceMode, writer: Racer, since: i64) -> RaceRun {
        RaceRun {
            mode,
            since,
            writer: Some(writer),
            report: None,
            tasks: HashSet::new(),
            finished: HashSet::new(),
            claims: 0,
            rejections: 0,
        }
    }

    /// Children written so far, for the status bar.
    pub fn children(&self) -> usize {
        match (&self.writer, &self.report) {
            (Some(writer), _) => writer.children(),
            (None, Some(report)) => report.children,
            (None, None) => 0,
        }
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

    /// When the writer has written every round, collects its report (its parents are released
    /// by then); returns whether that happened now.
    pub fn collect_writer(&mut self) -> Result<bool, BoardError> {
        if !self.writer.as_ref().is_some_and(Racer::is_finished) {
            return Ok(false);
        }
        let Some(writer) = self.writer.take() else {
            return Ok(false);
        };
        self.report = Some(writer.wait()?);
        Ok(true)
    }

    /// Whether the writer is done and every task it made was last seen finished.
    pub fn drained(&self) -> bool {
        let Some(report) = &self.report else {
            return false;
        };
        self.tasks.len() >= report.children + report.parents.len()
            && self.tasks.iter().all(|id| self.finished.contains(id))
    }

    /// Stops the writer if it still writes (releasing its parents), so the race can be summed up.
    pub fn stop(&mut self) -> Result<(), BoardError> {
        if let Some(writer) = self.writer.take() {
            self.report = Some(writer.stop()?);
        }
        Ok(())
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
