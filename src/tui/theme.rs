//! Colours, and their absence: NO_COLOR turns every colour off and keeps only emphasis.

use ratatui::style::{Color, Modifier, Style};

/// The styles a frame uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Theme {
    colour: bool,
}

impl Theme {
    /// Colour unless the NO_COLOR convention (a non-empty NO_COLOR) says otherwise.
    pub fn from_env() -> Theme {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Theme { colour: !no_color }
    }

    /// With or without colour, explicitly (tests pin it).
    pub fn new(colour: bool) -> Theme {
        Theme { colour }
    }

    fn fg(&self, colour: Color) -> Style {
        if self.colour {
            Style::new().fg(colour)
        } else {
            Style::new()
        }
    }

    /// Borders and titles of unfocused panes.
    pub fn frame(&self) -> Style {
        self.fg(Color::DarkGray)
    }

    /// The focused pane's border.
    pub fn focus(&self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }

    /// The selected card.
    pub fn selected(&self) -> Style {
        Style::new().add_modifier(Modifier::REVERSED)
    }

    /// Secondary text: ids, times.
    pub fn dim(&self) -> Style {
        if self.colour {
            Style::new().fg(Color::DarkGray)
        } else {
            Style::new().add_modifier(Modifier::DIM)
        }
    }

    /// A column heading.
    pub fn heading(&self) -> Style {
        Style::new().add_modifier(Modifier::BOLD)
    }

    /// Good news: completions, a clean audit.
    pub fn good(&self) -> Style {
        self.fg(Color::Green)
    }

    /// Work starting: claims.
    pub fn busy(&self) -> Style {
        self.fg(Color::Yellow)
    }

    /// Things becoming ready.
    pub fn info(&self) -> Style {
        self.fg(Color::Cyan)
    }

    /// What must stand out: `claim_rejected`, violations, errors.
    pub fn alarm(&self) -> Style {
        if self.colour {
            Style::new()
                .fg(Color::White)
                .bg(Color::Red)
                .add_modifier(Modifier::BOLD)
        } else {
            Style::new().add_modifier(Modifier::BOLD | Modifier::REVERSED)
        }
    }

    /// Blocked cards.
    pub fn blocked(&self) -> Style {
        self.fg(Color::Red)
    }
}
