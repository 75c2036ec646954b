//! How verbs print: plain text for people, JSON for scripts.
//!
//! Plain text shows every string from the board through [`terminal_text`], so a title (or any
//! other field another program wrote) can neither drive the terminal nor split a line; JSON
//! prints the exact text.

use std::io::{self, Write};
use std::path::Path;

use serde::Serialize;

use crate::core::model::Neighbour;
use crate::core::{Event, Task, TaskDetail};
use crate::terminal_text::{self, Escaped as E};

/// Epoch seconds as UTC wall time.
pub fn time(epoch: i64) -> String {
    jiff::Timestamp::from_second(epoch)
        .map(|t| t.strftime("%Y-%m-%d %H:%M:%SZ").to_string())
        .unwrap_or_else(|_| epoch.to_string())
}

/// Pretty JSON of anything serialisable.
pub fn json(out: &mut dyn Write, value: &impl Serialize) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, value)?;
    writeln!(out)
}

/// One JSON object on one line, for streams.
pub fn json_line(out: &mut dyn Write, value: &impl Serialize) -> io::Result<()> {
    serde_json::to_writer(&mut *out, value)?;
    writeln!(out)
}

/// One line per task: id, status, priority, title, and a blocked task's reason.
pub fn task_list(out: &mut dyn Write, tasks: &[Task]) -> io::Result<()> {
    for task in tasks {
        task_line(out, task)?;
    }
    Ok(())
}

fn task_line(out: &mut dyn Write, task: &Task) -> io::Result<()> {
    let priority = task
        .priority
        .map_or_else(|| "-".to_owned(), |p| p.to_string());
    write!(
        out,
        "{:<12} {:<9} {:>4}  {}",
        E(&task.id),
        E(task.status.as_str()),
        priority,
        E(&task.title)
    )?;
    if let Some(reason) = &task.block_reason {
        write!(out, "  [blocked: {}]", E(reason))?;
    }
    if let Some(lock) = &task.claim_lock {
        write!(out, "  [claimed by {}]", E(lock))?;
    }
    writeln!(out)
}

/// Everything about one task, for a person.
pub fn detail(out: &mut dyn Write, d: &TaskDetail) -> io::Result<()> {
    let t = &d.task;
    writeln!(out, "{}  {}", E(&t.id), E(&t.title))?;
    writeln!(out, "status:    {}", E(t.status.as_str()))?;
    if let Some(why) = &d.not_ready_because {
        writeln!(out, "not ready: {}", E(why))?;
    }
    if let Some(p) = t.priority {
        writeln!(out, "priority:  {p}")?;
    }
    if let Some(a) = &t.assignee {
        writeln!(out, "assignee:  {}", E(a))?;
    }
    if let Some(c) = &d.command {
        writeln!(out, "command:   {}", E(&c.command))?;
        writeln!(out, "  in:      {}", E(&c.cwd))?;
        if !c.env.is_empty() {
            // A value with a space or a quote in it is quoted, so the pairs read apart.
            let env: Vec<String> = c
                .env
                .iter()
                .map(
                    |(k, v)| match v.contains(|c: char| c.is_whitespace() || "\"'".contains(c)) {
                        true => format!("{k}={v:?}"),
                        false => format!("{k}={v}"),
                    },
                )
                .collect();
            writeln!(out, "  env:     {}", E(&env.join(" ")))?;
        }
        if let Some(secs) = c.timeout_secs {
            writeln!(out, "  timeout: {secs}s")?;
        }
        writeln!(out, "  retries: {}", c.retries)?;
    }
    writeln!(out, "created:   {}", time(t.created_at))?;
    if let Some(at) = t.completed_at {
        writeln!(out, "completed: {}", time(at))?;
    }
    if let Some(r) = &t.result {
        writeln!(out, "result:    {}", E(r))?;
    }
    if let Some(body) = &t.body {
        // A body is prose: its own line breaks stay, each line indented so none can pass for
        // one of the fields around it; everything else in it is escaped.
        writeln!(out)?;
        for line in body.lines() {
            writeln!(out, "  {}", E(line))?;
        }
        writeln!(out)?;
    }
    neighbours(out, "parents", &d.parents)?;
    neighbours(out, "children", &d.children)?;
    if !d.runs.is_empty() {
        writeln!(out, "runs:")?;
        for run in &d.runs {
            let outcome = run
                .outcome_beyond_status()
                .map(|o| format!(" {}", E(o)))
                .unwrap_or_default();
            writeln!(
                out,
                "  #{} {}{} run by {} from {}{}",
                run.id,
                E(&run.status),
                outcome,
                E(run.runner()),
                time(run.started_at),
                run.ended_at
                    .map(|e| format!(" to {}", time(e)))
                    .unwrap_or_default()
            )?;
            let how = run.how_it_ended();
            if !how.is_empty() {
                writeln!(out, "      {}", how.join(", "))?;
            }
            if let Some(why) = run.why() {
                writeln!(out, "      why: {}", E(why))?;
            }
            if let Some(error) = &run.error {
                writeln!(out, "      error: {}", E(error))?;
            }
            // A run given back before it started never wrote the log its claim named.
            if let Some(log) = run.log.as_ref().filter(|log| Path::new(log).exists()) {
                writeln!(out, "      log: {}", E(log))?;
            }
        }
    }
    if !d.comments.is_empty() {
        writeln!(out, "comments:")?;
        for c in &d.comments {
            writeln!(
                out,
                "  {} {}: {}",
                time(c.created_at),
                E(&c.author),
                E(&c.body)
            )?;
        }
    }
    writeln!(out, "events:")?;
    for e in &d.events {
        write!(out, "  ")?;
        event(out, e)?;
    }
    Ok(())
}

fn neighbours(out: &mut dyn Write, label: &str, list: &[Neighbour]) -> io::Result<()> {
    if list.is_empty() {
        return writeln!(out, "{:<11}none", format!("{label}:"));
    }
    writeln!(out, "{label}:")?;
    for n in list {
        writeln!(
            out,
            "  {:<12} {:<9} {}",
            E(&n.id),
            E(n.status.as_str()),
            E(&n.title)
        )?;
    }
    Ok(())
}

/// One event on one line: cursor, time, task, kind, payload.
pub fn event(out: &mut dyn Write, e: &Event) -> io::Result<()> {
    write!(
        out,
        "{:>6} {} {:<12} {}",
        e.id,
        time(e.created_at),
        E(&e.task_id),
        E(e.kind.as_str())
    )?;
    if let Some(payload) = &e.payload {
        write!(out, " {}", terminal_text::json(payload))?;
    }
    writeln!(out)
}
