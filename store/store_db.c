/*
 * store_db.c - store/'s own access to an SQLite store's connection
 * (store_db.h), for seen.c: NULL for a store of another backend.
 */
#include "config.h"

#include <stddef.h>

#include "store_backend.h"
#include "store_db.h"

sqlite3 *
store_db_lock(struct store *s)
{
	void *b = NULL;

	if (store_backend(s, &b) != &store_sqlite_ops)
		return NULL;
	return store_sqlite_lock(b);
}

void
store_db_unlock(struct store *s)
{
	void *b = NULL;

	if (store_backend(s, &b) == &store_sqlite_ops)
		store_sqlite_unlock(b);
}
