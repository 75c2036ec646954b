//! Choosing a task from a list that narrows by fuzzy match as one types: the parent to link
//! (`L`), the link to remove (`U`). Nobody has to remember an id.
//!
//! Matching is nucleo's (the matcher of the helix editor): fzf's scoring and syntax, fast
//! enough to rank ten thousand titles on each keystroke. It runs only when the typed text
//! changes; the widget draws only the rows that fit.

use std::cmp::Reverse;

use nucleo_matcher::pattern::{CaseMatching, Normalization, Pattern};
use nucleo_matcher::{Config, Matcher, Utf32Str};

use crate::core::Status;
use crate::core::model::Neighbour;

use super::state::BoardView;

/// One task a picker offers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Choice {
    /// Its id.
    pub id: String,
    /// Its title, as written (the widget escapes it).
    pub title: String,
    /// Its status, so a person sees what linking to it means.
    pub status: Status,
    /// What is matched: id and title, so either can be typed.
    haystack: String,
}

impl Choice {
    /// A task on offer.
    pub fn new(id: String, title: String, status: Status) -> Choice {
        let haystack = format!("{id} {title}");
        Choice {
            id,
            title,
            status,
            haystack,
        }
    }
}

impl From<Neighbour> for Choice {
    fn from(n: Neighbour) -> Choice {
        Choice::new(n.id, n.title, n.status)
    }
}

/// The tasks on offer, those matching what is typed (best first), and the one under the
/// cursor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Picker {
    choices: Vec<Choice>,
    /// Indices into `choices`.
    matches: Vec<usize>,
    row: usize,
}

impl Picker {
    /// A picker offering these tasks, in this order while nothing is typed.
    pub fn new(choices: Vec<Choice>) -> Picker {
        let matches = (0..choices.len()).collect();
        Picker {
            choices,
            matches,
            row: 0,
        }
    }

    /// Every task of the board but `except`, column by column in claim order, as the board
    /// shows them (the statuses beyond the five columns last).
    pub fn board_except(view: &BoardView, except: &str) -> Picker {
        let mut statuses = Status::COLUMNS.to_vec();
        statuses.extend([
            Status::Triage,
            Status::Scheduled,
            Status::Review,
            Status::Archived,
        ]);
        for other in view.other_statuses() {
            if !statuses.contains(&other) {
                statuses.push(other);
            }
        }
        let choices = statuses
            .iter()
            .flat_map(|status| view.column(status))
            .filter(|id| id.as_str() != except)
            .filter_map(|id| view.task(id))
            .map(|t| Choice::new(t.id.clone(), t.title.clone(), t.status.clone()))
            .collect();
        Picker::new(choices)
    }

    /// Offers these tasks too, after those offered already, but for `except` and any offered
    /// already.
    pub fn offering(mut self, more: impl IntoIterator<Item = Choice>, except: &str) -> Picker {
        let offered: std::collections::HashSet<String> =
            self.choices.iter().map(|c| c.id.clone()).collect();
        self.choices.extend(
            more.into_iter()
                .filter(|c| c.id != except && !offered.contains(&c.id)),
        );
        self.matches = (0..self.choices.len()).collect();
        self
    }

    /// Keeps only the tasks matching `query` (fzf syntax: words in any order, `'exact`,
    /// `^start`, `end$`, `!not`), best first, ties in the offered order; the cursor goes to
    /// the best.
    pub fn refilter(&mut self, query: &str) {
        self.row = 0;
        if query.trim().is_empty() {
            self.matches = (0..self.choices.len()).collect();
            return;
        }
        let pattern = Pattern::parse(query, CaseMatching::Smart, Normalization::Smart);
        let mut matcher = Matcher::new(Config::DEFAULT);
        let mut buf = Vec::new();
        let mut scored: Vec<(u32, usize)> = self
            .choices
            .iter()
            .enumerate()
            .filter_map(|(at, choice)| {
                let haystack = Utf32Str::new(&choice.haystack, &mut buf);
                pattern
                    .score(haystack, &mut matcher)
                    .map(|score| (score, at))
            })
            .collect();
        scored.sort_by_key(|&(score, at)| (Reverse(score), at));
        self.matches = scored.into_iter().map(|(_, at)| at).collect();
    }

    /// Moves the cursor by `delta` rows, stopping at either end.
    pub fn move_cursor(&mut self, delta: isize) {
        let last = self.matches.len().saturating_sub(1);
        self.row = self.row.saturating_add_signed(delta).min(last);
    }

    /// The task under the cursor, if anything matches.
    pub fn selected(&self) -> Option<&Choice> {
        self.matches.get(self.row).map(|&at| &self.choices[at])
    }

    /// The cursor's row among the matches.
    pub fn row(&self) -> usize {
        self.row
    }

    /// The matching tasks, best first, from row `first` on: the widget takes what fits.
    pub fn matches_from(&self, first: usize) -> impl Iterator<Item = &Choice> {
        self.matches.iter().skip(first).map(|&at| &self.choices[at])
    }

    /// How many tasks match.
    pub fn match_count(&self) -> usize {
        self.matches.len()
    }

    /// How many tasks are on offer.
    pub fn len(&self) -> usize {
        self.choices.len()
    }

    /// Whether nothing is on offer at all.
    pub fn is_empty(&self) -> bool {
        self.choices.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn picker(titles: &[&str]) -> Picker {
        Picker::new(
            titles
                .iter()
                .enumerate()
                .map(|(i, t)| Choice::new(format!("t_{i}"), (*t).into(), Status::Todo))
                .collect(),
        )
    }

    fn shown(p: &Picker) -> Vec<&str> {
        p.matches_from(0).map(|c| c.title.as_str()).collect()
    }

    #[test]
    fn letters_in_order_match_and_the_closest_ranks_first() {
        let mut p = picker(&["deploy the site", "design schema", "write docs"]);
        p.refilter("dsgn");
        assert_eq!(shown(&p), vec!["design schema"]);
        p.refilter("desch");
        assert_eq!(shown(&p), vec!["design schema"]);
        p.refilter("site");
        assert_eq!(
            shown(&p)[0],
            "deploy the site",
            "whole words beat scattered letters"
        );
        assert_eq!(p.len(), 3);
    }

    #[test]
    fn an_id_can_be_typed_instead_of_a_title() {
        let mut p = picker(&["alpha", "beta"]);
        p.refilter("t_1");
        assert_eq!(p.selected().map(|c| c.title.as_str()), Some("beta"));
    }

    #[test]
    fn nothing_typed_offers_everything_in_order() {
        let mut p = picker(&["b", "a"]);
        p.refilter("a");
        p.refilter("");
        assert_eq!(shown(&p), vec!["b", "a"]);
    }

    #[test]
    fn the_cursor_stops_at_both_ends_and_returns_to_the_best_on_new_text() {
        let mut p = picker(&["one", "two", "three"]);
        p.move_cursor(-1);
        assert_eq!(p.row(), 0);
        p.move_cursor(10);
        assert_eq!(p.selected().map(|c| c.title.as_str()), Some("three"));
        p.refilter("t");
        assert_eq!(p.row(), 0);
    }

    #[test]
    fn no_match_selects_nothing() {
        let mut p = picker(&["one"]);
        p.refilter("zzz");
        assert_eq!(p.selected(), None);
        assert!(!p.is_empty());
    }
}
