//! The pool's benchmark: two workloads at several pool sizes, beside the bare durable-commit
//! loop measured in the same run, so ratios compare numbers from one machine state.

use std::path::Path;
use std::time::{Duration, Instant};

use super::{Pool, PoolConfig};
use crate::core::baseline::bare_commits;
use crate::core::ops::GraphNode;
use crate::core::{Board, BoardError, NewTask, OpenOptions};

/// How long a drain may go without completing a task before the benchmark gives up.
const STALL: Duration = Duration::from_secs(30);

/// The shape of the tasks a run drains.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Workload {
    /// Independent tasks.
    Flat,
    /// Layers of 100, each task with 2 parents from the layer before.
    Dag,
}

impl Workload {
    /// Its name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Workload::Flat => "flat",
            Workload::Dag => "dag",
        }
    }

    /// The graph of `tasks` tasks.
    pub fn graph(self, tasks: usize) -> Vec<GraphNode> {
        const LAYER: usize = 100;
        (0..tasks)
            .map(|i| {
                let parents = match self {
                    Workload::Dag if i >= LAYER => {
                        let base = (i / LAYER - 1) * LAYER;
                        vec![
                            format!("n{}", base + i % LAYER),
                            format!("n{}", base + (i + 1) % LAYER),
                        ]
                    }
                    _ => Vec::new(),
                };
                GraphNode {
                    key: format!("n{i}"),
                    task: NewTask {
                        title: format!("{} task {i}", self.name()),
                        parents,
                        ..NewTask::default()
                    },
                }
            })
            .collect()
    }
}

/// One measured drain.
#[derive(Clone, Debug)]
pub struct BenchRow {
    /// Which workload.
    pub workload: Workload,
    /// Pool size.
    pub workers: usize,
    /// Tasks drained.
    pub tasks: usize,
    /// Wall time to drain them.
    pub elapsed: Duration,
    /// Median claim latency.
    pub p50: Duration,
    /// 99th percentile claim latency.
    pub p99: Duration,
    /// Transactions committed.
    pub commits: u64,
}

impl BenchRow {
    /// Tasks per second.
    pub fn rate(&self) -> f64 {
        self.tasks as f64 / self.elapsed.as_secs_f64()
    }
}

/// The bare loop's rate in tasks per second: two durable commits per task (claim, complete).
pub fn bare_tasks_per_second(dir: &Path, commits: usize) -> Result<f64, BoardError> {
    let path = dir.join("bare.db");
    let took = bare_commits(&path, commits, &OpenOptions::default())?;
    Ok(commits as f64 / took.as_secs_f64() / 2.0)
}

/// Seeds a fresh board with the workload, drains it with a pool of `workers`, and measures.
pub async fn drain(
    dir: &Path,
    workload: Workload,
    tasks: usize,
    workers: usize,
) -> Result<BenchRow, BoardError> {
    let path = dir.join(format!("{}-{workers}.db", workload.name()));
    let mut board = Board::open(
        &path,
        &OpenOptions {
            create: true,
            ..OpenOptions::default()
        },
    )?;
    let graph = workload.graph(tasks);
    board.write(|t| t.create_graph(&graph))?;
    drop(board);
    let start = Instant::now();
    let pool = Pool::start(
        &path,
        PoolConfig {
            workers,
            ..PoolConfig::default()
        },
    )?;
    let mut progress = (0, Instant::now());
    while pool.stats().completed < tasks as u64 {
        tokio::time::sleep(Duration::from_millis(2)).await;
        let completed = pool.stats().completed;
        if completed != progress.0 {
            progress = (completed, Instant::now());
        } else if progress.1.elapsed() > STALL {
            pool.stop().await;
            return Err(BoardError::Internal(format!(
                "the {} benchmark stalled at {completed} of {tasks} tasks",
                workload.name()
            )));
        }
    }
    let elapsed = start.elapsed();
    let mut latencies = pool.claim_latencies();
    let stats = pool.stop().await;
    latencies.sort();
    let at = |q: f64| {
        latencies
            .get(((latencies.len() as f64 - 1.0) * q).round() as usize)
            .copied()
            .unwrap_or_default()
    };
    Ok(BenchRow {
        workload,
        workers,
        tasks,
        elapsed,
        p50: at(0.50),
        p99: at(0.99),
        commits: stats.commits,
    })
}
