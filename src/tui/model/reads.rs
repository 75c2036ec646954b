//! What the board's reads bring back to the app: new events and the tasks they name, pages of
//! long columns and of the events pane, views a person asked for, the totals; and how reads
//! are asked for, on the reader thread or (without one) here and now.

use std::collections::HashSet;
use std::time::Instant;

use super::{Effect, Model};
use crate::core::model::Neighbour;
use crate::core::{Event, EventKind, Keyed, Status};
use crate::tui::board_view::{Page, matches};
use crate::tui::effects::read::{EVENT_PAGE, Fetched, Read};
use crate::tui::event_log;
use crate::tui::picker::{Choice, Picker};
use crate::tui::state::{Mode, Prompt, PromptKind};
use crate::tui::tree::TreeView;

impl Model {
    /// Reads the board afresh (every short column whole, each long one's count and window where
    /// it sits), after a change that wrote no events or one whose old column is not known. The
    /// event cursor stays: events not read yet still reach the log, the rates and the live
    /// audit.
    fn reload(&mut self) {
        let windows = self
            .state
            .view
            .pagings()
            .map(|(status, paging)| (status.clone(), paging.clone()))
            .collect();
        self.read(Read::Reload { windows });
    }

    /// Asks for a read; its outcome comes back as `Action::Fetched`.
    pub(super) fn read(&mut self, read: Read) {
        self.effects.push(Effect::Read(read));
    }

    /// Asks for the window each shown long column needs next, one at a time per column.
    pub(super) fn read_pages(&mut self) {
        let shown = self.state.statuses();
        let needed: Vec<_> = self
            .state
            .view
            .pagings()
            .map(|(status, _)| status.clone())
            .filter(|status| shown.contains(status) && !self.paging.contains(status))
            .filter_map(|status| self.state.page_needed(&status).map(|at| (status, at)))
            .collect();
        let filter = self.state.filter.to_lowercase();
        // A count under way for an older filter stops, so the one wanted now comes sooner.
        let wanted: Vec<Status> = self
            .paging
            .iter()
            .chain(needed.iter().map(|(status, _)| status))
            .cloned()
            .collect();
        for status in wanted {
            self.effects.push(Effect::WantFilter {
                status,
                filter: filter.clone(),
            });
        }
        for (status, at) in needed {
            let filter = filter.clone();
            let known = self
                .state
                .view
                .paging(&status)
                .filter(|paging| paging.filter == filter)
                .map(|paging| (paging.len, paging.all));
            self.paging.insert(status.clone());
            self.read(Read::Page {
                status,
                filter,
                at,
                known,
            });
        }
    }

    /// Asks for the events after the cursor, unless a look is on its way (then one follows
    /// it); `schedule` is the freshness look this is, if it is one.
    pub(super) fn look_now(&mut self, schedule: Option<(Instant, bool)>) {
        if self.refreshing {
            self.dirty = true;
            return;
        }
        self.refreshing = true;
        self.looks += 1;
        self.looking = schedule;
        self.read(Read::Since {
            after: self.cursor,
            look: self.looks,
        });
    }

    /// What a read found, put on screen.
    pub(super) fn fetched(&mut self, fetched: Fetched) {
        match fetched {
            Fetched::Since {
                after,
                look,
                events,
                tasks,
                violations,
            } => self.since(after, look, events, tasks, violations),
            Fetched::Reloaded(view) => self.state.replace_view(*view),
            Fetched::Page(page) => {
                self.paging.remove(&page.status);
                if page.paging.filter == self.state.filter.to_lowercase() {
                    self.state.apply_page(page);
                }
            }
            Fetched::Goto { id, found, page } => self.went_to(&id, found, page),
            Fetched::Detail {
                view,
                detail,
                tails,
            } if view == self.views => {
                // The same task read again (it changed) keeps its place; another starts at
                // the top.
                if !matches!(&self.state.mode, Mode::Detail(open) if open.task.id == detail.task.id)
                {
                    self.state.detail_scroll = 0;
                }
                self.state.log_tails = tails;
                self.state.mode = Mode::Detail(detail);
            }
            Fetched::Lineage { view, lineage } if view == self.views => {
                self.state.mode = Mode::Tree(Box::new(TreeView::new(*lineage)));
            }
            Fetched::Choices {
                view,
                task,
                parents,
                offered,
            } if view == self.views => self.offer(task, parents, offered),
            Fetched::Detail { .. } | Fetched::Lineage { .. } | Fetched::Choices { .. } => {}
            Fetched::Events { read, events } => self.paged_log(*read, events),
            Fetched::Totals {
                rejected,
                violations,
            } => {
                self.state.rejections_before = rejected;
                self.state.violations += violations;
                self.state.counting_totals = false;
            }
            Fetched::Audited(found) => self.audited(found),
            Fetched::Tails { view, tails } => {
                self.tailing = false;
                if view == self.views {
                    self.state.log_tails = tails;
                }
            }
            Fetched::Superseded(read) => {
                if let Read::Page { status, .. } = *read {
                    self.paging.remove(&status);
                }
            }
            Fetched::Failed { read, why } => {
                match *read {
                    Read::Since { .. } => {
                        self.refreshing = false;
                        self.looking = None;
                    }
                    Read::Page { status, .. } => {
                        self.paging.remove(&status);
                    }
                    Read::Totals { .. } => self.state.counting_totals = false,
                    Read::Tails { .. } => self.tailing = false,
                    // The `:goto` prompt waiting for it says why, to be fixed or closed.
                    Read::Goto(_)
                        if matches!(&self.state.mode,
                            Mode::Prompt(p) if p.waiting && p.kind == PromptKind::Command) =>
                    {
                        if let Mode::Prompt(prompt) =
                            std::mem::replace(&mut self.state.mode, Mode::Normal)
                        {
                            return self.refused(prompt, why);
                        }
                    }
                    _ => {}
                }
                self.state.message = Some(why);
            }
        }
    }

    /// A page of the events pane, taken only if the pane still ends where it was asked
    /// from (pages asked twice, or before a restart, are dropped), and only up to the
    /// cursor: later events reach the pane through the looks. Reads run in the order asked,
    /// so a page holds every event the looks before it read.
    fn paged_log(&mut self, read: Read, mut events: Vec<Event>) {
        let Read::Events {
            first,
            last,
            filter,
        } = read
        else {
            return;
        };
        let log = &mut self.state.log;
        if log.filter() != filter {
            return;
        }
        let full = events.len() == event_log::PAGE;
        let cursor = self.cursor;
        let before_cursor = events.len();
        events.retain(|e| e.id <= cursor);
        let cut = events.len() < before_cursor;
        match (first, last) {
            (Some(first), _) if log.first_id() == Some(first) => log.prepend(events, full),
            (None, Some(last)) if log.last_id() == Some(last) => log.append(events, cut || !full),
            (None, None) => log.restart(events, full),
            _ => return,
        }
        let left = std::mem::take(&mut self.log_move_left);
        if left != 0 {
            log.move_cursor(left);
        }
    }

    /// Opens the picker about `task` once its choices are read: its parents to unlink, or
    /// (with `parents` false) every unfinished task the view holds and the newest finished.
    fn offer(&mut self, task: String, parents: bool, offered: Vec<Neighbour>) {
        let (kind, picker) = if parents {
            let choices = offered.into_iter().map(Choice::from).collect();
            (PromptKind::UnlinkParent, Picker::new(choices))
        } else {
            let finished = offered.into_iter().map(Choice::from);
            let picker = Picker::board_except(&self.state.view, &task).offering(finished, &task);
            (PromptKind::LinkParent, picker)
        };
        if picker.is_empty() {
            self.state.message = Some(match kind {
                PromptKind::UnlinkParent => format!("{task} waits for no parent"),
                _ => "no other task to link to".into(),
            });
            return;
        }
        self.state.mode = Mode::Prompt(Prompt {
            picker: Some(Box::new(picker)),
            ..Prompt::new(kind, Some(task))
        });
    }

    /// Where the board says a task (`:goto`'s, a tree line's) is: its column is shown, a
    /// filter hiding it cleared, its window read around it, the cursor put on it; a waiting
    /// prompt closes, or says it is not there.
    fn went_to(&mut self, id: &str, found: Option<Box<Keyed>>, page: Option<Page>) {
        let prompt = match std::mem::replace(&mut self.state.mode, Mode::Normal) {
            Mode::Prompt(prompt) if prompt.waiting && prompt.kind == PromptKind::Command => {
                Some(prompt)
            }
            other => {
                self.state.mode = other;
                None
            }
        };
        let Some(found) = found else {
            let why = format!("no task {id} on this board");
            return match prompt {
                Some(prompt) => self.refused(prompt, why),
                None => {
                    self.state.message = Some(why);
                }
            };
        };
        if !self.state.statuses().contains(&found.task.status) {
            self.state.toggle_other_statuses();
        }
        if !matches(&found.task, &self.state.filter.to_lowercase()) {
            self.state.set_filter(String::new());
        }
        match page {
            Some(page) => self.state.apply_page(page),
            None => {
                self.state.apply_tasks([*found]);
            }
        }
        self.state.select_task(id);
        if let Some(prompt) = prompt {
            self.back_from(&prompt);
        }
    }

    /// The full audit after a race: its summary is shown, with what the audit found.
    fn audited(&mut self, found: usize) {
        let Some(mut summary) = self.race_ending.take() else {
            return;
        };
        summary.audit_violations = found;
        self.state.message = Some(format!(
            "race {}: {} violations",
            if summary.finished { "done" } else { "stopped" },
            summary.live_violations.max(summary.audit_violations)
        ));
        self.state.race_summary = Some(summary);
    }

    /// A look at the new events landed: the events, the tasks they name and the live audit go
    /// on screen, the freshness schedule moves on, and a change of the person's that this
    /// look covers is shown.
    fn since(
        &mut self,
        after: i64,
        look: u64,
        events: Vec<Event>,
        tasks: Vec<Keyed>,
        violations: usize,
    ) {
        self.refreshing = false;
        // Only one look is on its way at a time, so it follows the cursor as it stands.
        let found = after == self.cursor && self.take_events(events, tasks, violations);
        if let Some((at, woke)) = self.looking.take() {
            self.freshness.looked(at, woke, found);
            if self.freshness.reload_due(at) {
                self.reload();
                self.freshness.reloaded(at);
            }
        }
        if self
            .answer_after
            .as_ref()
            .is_some_and(|(needed, _)| look >= *needed)
            && let Some((_, answered)) = self.answer_after.take()
        {
            self.show_answer(answered);
        }
    }

    /// New events and the tasks they name; returns whether there were any.
    fn take_events(&mut self, events: Vec<Event>, tasks: Vec<Keyed>, violations: usize) -> bool {
        if events.is_empty() {
            return false;
        }
        let now = Instant::now();
        for event in &events {
            match event.kind {
                EventKind::Claimed => self.rate.record(now),
                EventKind::ClaimRejected => self.state.rejections += 1,
                _ => {}
            }
        }
        self.state.violations += violations;
        self.cursor = events.last().map_or(self.cursor, |e| e.id);
        let full_page = events.len() == EVENT_PAGE;
        if let Some(race) = &mut self.race {
            race.note(&events, tasks.iter().map(|k| &k.task));
        }
        let created: HashSet<&str> = events
            .iter()
            .filter(|e| e.kind == EventKind::Created)
            .map(|e| e.task_id.as_str())
            .collect();
        let unknown = self.state.apply_tasks(tasks);
        // A task the view did not hold that was not just made sat outside a long column's
        // window, and its old column is not known: the long columns are counted again.
        if unknown.iter().any(|id| !created.contains(id.as_str())) {
            self.reload();
        }
        if let Mode::Detail(detail) = &self.state.mode
            && events.iter().any(|e| e.task_id == detail.task.id)
        {
            let id = detail.task.id.clone();
            self.read(Read::Detail {
                id,
                view: self.views,
            });
        }
        self.state.push_events(events);
        if full_page {
            self.dirty = true;
        }
        true
    }
}
