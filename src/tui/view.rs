//! A frame as a pure function of the state.

use ratatui::Frame;

use super::layout;
use super::state::{Mode, State};
use super::widgets;

/// Draws everything the state says, and nothing else.
pub fn draw(frame: &mut Frame<'_>, state: &State) {
    let area = frame.area();
    if !layout::fits(area) {
        widgets::too_small::draw(frame, area);
        return;
    }
    let areas = layout::areas(area, state.statuses().len());
    widgets::columns::draw(frame, state, &areas.columns);
    widgets::log::draw(frame, state, areas.log);
    widgets::workers::draw(frame, state, areas.workers);
    widgets::hints::draw(frame, state, areas.hints);
    widgets::status_bar::draw(frame, state, areas.status);
    match &state.mode {
        Mode::Normal => {}
        Mode::Detail(detail) => widgets::detail::draw(frame, state, detail, area),
        Mode::Help => widgets::help::draw(frame, state, area),
        Mode::Tree(tree) => widgets::tree::draw(frame, state, tree, area),
        Mode::Prompt(prompt) => widgets::prompt::draw(frame, state, prompt, area),
    }
}
