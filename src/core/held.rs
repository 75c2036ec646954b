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
