/*
 * store_db.h - store/'s own access to the outcome store's connection, for
 * the modules of this folder that keep tables of their own in the same
 * schema (seen.c). Not for other layers: they use store.h and the
 * module headers (seen.h).
 *
 * store_db_lock() takes the store's (recursive) mutex and returns its
 * SQLite connection; the caller runs its statements and transaction and
 * then calls store_db_unlock(). The connection stays the store's (never
 * closed by the caller); statements the caller prepares are finalized
 * before it unlocks. A store that is not SQLite (PostgreSQL) has no such
 * connection: store_db_lock() returns NULL and locks nothing.
 */
#ifndef DANEPOL_STORE_DB_H
#define DANEPOL_STORE_DB_H

#include <sqlite3.h>
#include <stddef.h>

#include "store.h"

/** Lock s and return its connection. */
sqlite3 *store_db_lock(struct store *s);

/** Unlock what store_db_lock() locked. */
void store_db_unlock(struct store *s);

#endif
