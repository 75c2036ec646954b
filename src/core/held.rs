//! The statements one transaction (or read) keeps at hand from their first use to its end.
//!
//! Every task a pool batch moves runs the same dozen statements. Each `prepare_cached` trims
//! and hashes the statement's text, copies it into a fresh key, and hashes it again when the
//! statement goes back: 6% of the pool's writer instructions (callgrind). A statement held
//! here is found by the address of its text instead and goes back to the cache only once.

use std::cell::{Cell, RefCell, RefMut};
use std::ops::{Deref, DerefMut};

use rusqlite::{CachedStatement, Connection, Statement};

use super::error::{BoardError, Result};

/// How many statements one transaction holds; more go through the cache as usual.
const SLOTS: usize = 12;

/// One held statement, named by the address of its text.
#[derive(Default)]
struct Slot<'c> {
    sql: Cell<Option<&'static str>>,
    statement: RefCell<Option<CachedStatement<'c>>>,
}

/// The statements held for one transaction; they go back to the connection's cache with it.
#[derive(Default)]
pub(crate) struct HeldStatements<'c> {
    slots: [Slot<'c>; SLOTS],
}

/// A statement ready to bind and run: held by the transaction, or from the cache when every
/// slot is taken or this one is in use further up the stack.
pub(crate) enum Held<'h, 'c> {
    Slot(RefMut<'h, CachedStatement<'c>>),
    Cached(CachedStatement<'c>),
}

impl<'c> HeldStatements<'c> {
    /// The statement of `sql`, prepared (or taken from the cache) on its first use only.
    pub(crate) fn get(&self, conn: &'c Connection, sql: &'static str) -> Result<Held<'_, 'c>> {
        for slot in &self.slots {
            match slot.sql.get() {
                Some(held) if std::ptr::eq(held, sql) => {
                    let Ok(statement) = slot.statement.try_borrow_mut() else {
                        break;
                    };
                    return RefMut::filter_map(statement, Option::as_mut)
                        .map(Held::Slot)
                        .map_err(|_| BoardError::Internal("a held statement went missing".into()));
                }
                Some(_) => {}
                None => {
                    let statement = conn.prepare_cached(sql)?;
                    let mut empty = slot.statement.borrow_mut();
                    *empty = Some(statement);
                    slot.sql.set(Some(sql));
                    return RefMut::filter_map(empty, Option::as_mut)
                        .map(Held::Slot)
                        .map_err(|_| BoardError::Internal("a held statement went missing".into()));
                }
            }
        }
        Ok(Held::Cached(conn.prepare_cached(sql)?))
    }
}

impl<'c> Deref for Held<'_, 'c> {
    type Target = Statement<'c>;
    fn deref(&self) -> &Statement<'c> {
        match self {
            Held::Slot(statement) => statement,
            Held::Cached(statement) => statement,
        }
    }
}

impl<'c> DerefMut for Held<'_, 'c> {
    fn deref_mut(&mut self) -> &mut Statement<'c> {
        match self {
            Held::Slot(statement) => statement,
            Held::Cached(statement) => statement,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(statement: &mut Statement<'_>) -> i64 {
        statement.query_row([], |r| r.get(0)).expect("a row")
    }

    #[test]
    fn a_statement_in_use_further_up_the_stack_is_lent_from_the_cache() {
        let conn = Connection::open_in_memory().expect("connection");
        let held = HeldStatements::default();
        const SQL: &str = "SELECT 1";
        let mut outer = held.get(&conn, SQL).expect("held");
        let mut inner = held.get(&conn, SQL).expect("lent");
        assert!(matches!(outer, Held::Slot(_)));
        assert!(matches!(inner, Held::Cached(_)));
        assert_eq!((one(&mut outer), one(&mut inner)), (1, 1));
        drop((outer, inner));
        assert!(matches!(
            held.get(&conn, SQL).expect("held again"),
            Held::Slot(_)
        ));
    }

    #[test]
    fn statements_past_the_slots_go_through_the_cache() {
        let conn = Connection::open_in_memory().expect("connection");
        let held = HeldStatements::default();
        let texts: Vec<&'static str> = (0..SLOTS + 2)
            .map(|i| &*Box::leak(format!("SELECT {i}").into_boxed_str()))
            .collect();
        for (i, sql) in texts.iter().enumerate() {
            let mut statement = held.get(&conn, sql).expect("statement");
            assert_eq!(matches!(statement, Held::Slot(_)), i < SLOTS, "{sql}");
            assert_eq!(one(&mut statement), i as i64);
        }
    }
}
