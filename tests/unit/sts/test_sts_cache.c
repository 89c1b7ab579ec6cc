/*
 * test_sts_cache.c - the MTA-STS policy cache (sts/sts_cache.c) over a
 * real outcome store and policy_server.py: when to fetch (no policy, a
 * new TXT id, near the end, not within 5 min of a failure), a failed
 * refresh keeping the policy, expiry at max_age, the policy surviving a
 * restart (a new cache over the same store, its fetches failing), a
 * hostile row in the store refused, and refreshes on background threads.
 */
#include "config.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mem.h"
#include "policy_server.h"
#include "store.h"
#include "sts_cache.h"
#include "stspol.h"

#define T0 1800000000LL /* a fixed "now" */

static struct policy_server srv;
static char dir[] = "/tmp/danepol-stscache.XXXXXX";
static char *dbpath;

static void
start(void)
{
	policy_server_start(&srv);
	cr_assert_eq(sts_fetch_global_init(), 0);
	cr_assert_not_null(mkdtemp(dir));
	dbpath = xasprintf("%s/outcomes.db", dir);
}

static void
stop(void)
{
	char *cmd = xasprintf("rm -rf %s", dir);

	policy_server_stop(&srv);
	if (system(cmd) != 0)
		cr_log_warn("cannot remove %s", dir);
	free(cmd);
	free(dbpath);
}

TestSuite(sts_cache, .init = start, .fini = stop);

static const char *const lo[] = { "127.0.0.1" };

/* a cache over store st fetching from the server (port 0: nothing listens) */
static struct sts_cache *
cache(struct store *st, unsigned port)
{
	struct sts_fetch_opts fo = { srv.ca, 3000, port ? port : 1, NULL, 0 };

	return sts_cache_new(st, &fo);
}

static void
look(struct sts_cache *c, const char *id, int64_t now, struct sts_cache_state *s)
{
	struct sts_policy p;

	sts_cache_lookup(c, "stsok.example", id, now, &p, s);
	cr_expect_eq(p.nmx, s->have ? 2u : 0u);
	sts_policy_clear(&p);
}

Test(sts_cache, when_to_fetch_and_restart)
{
	char *err = NULL;
	struct store *st = store_open(dbpath, &err);
	struct sts_cache *c;
	struct sts_cache_state s;

	cr_assert_not_null(st, "%s", err);
	c = cache(st, srv.port);
	look(c, NULL, T0, &s);
	cr_expect(!s.have && !s.want_fetch, "no TXT record, nothing cached: no fetch");
	look(c, "id1", T0, &s);
	cr_expect(!s.have && s.want_fetch, "a TXT record, nothing cached: fetch");
	cr_assert_eq(sts_cache_refresh(c, "stsok.example", "id1", lo, 1, 0, T0, &err), STS_FETCH_OK,
	    "%s", err);
	look(c, "id1", T0 + 60, &s);
	cr_expect(s.have && !s.want_fetch, "cached under the same id: no fetch");
	cr_expect_eq(s.expires, T0 + 604800);
	cr_expect_str_eq(s.id, "id1");
	look(c, NULL, T0 + 60, &s);
	cr_expect(s.have, "the TXT record gone: the cached policy still applies");
	look(c, "id2", T0 + 60, &s);
	cr_expect(s.have && s.want_fetch, "a new id: fetch, the old policy applies meanwhile");
	look(c, "id1", T0 + 604800 - 3600, &s);
	cr_expect(s.have && s.want_fetch, "an hour before the end: refresh");
	look(c, "id1", T0 + 604800, &s);
	cr_expect(!s.have, "at max_age: no longer applied");
	sts_cache_free(c);

	/* restart: a new cache, the server unreachable */
	c = cache(st, 0);
	look(c, "id1", T0 + 120, &s);
	cr_expect(s.have && !s.want_fetch, "after a restart the stored policy applies");
	look(c, "id2", T0 + 120, &s);
	cr_expect(s.want_fetch);
	cr_expect_eq(sts_cache_refresh(c, "stsok.example", "id2", lo, 1, 0, T0 + 120, &err),
	    STS_FETCH_ERROR);
	free(err);
	look(c, "id2", T0 + 130, &s);
	cr_expect(s.have && !s.want_fetch, "a failed refresh keeps the policy; no retry at once");
	look(c, "id2", T0 + 120 + STS_CACHE_RETRY_S, &s);
	cr_expect(s.want_fetch, "retried after 5 min");
	sts_cache_free(c);
	store_close(st);
}

Test(sts_cache, hostile_store_row)
{
	char *err = NULL;
	struct store *st = store_open(dbpath, &err);
	struct stspol_row r = { "stsok.example", "id9", "enforced", 86400, "mx1.stsok.example",
		T0, T0 + 86400 };
	struct stspol_row bad = { "stsok.example", "id\x01", "enforce", 1, "", T0, T0 + 1 };
	struct sts_cache *c;
	struct sts_cache_state s;

	cr_assert_not_null(st, "%s", err);
	cr_expect_eq(stspol_put(st, &bad, &err), -1, "a control byte is refused at the boundary");
	cr_expect(err != NULL && strstr(err, "id refused") != NULL);
	free(err);
	cr_assert_eq(stspol_put(st, &r, &err), 0, "%s", err);
	c = cache(st, 0);
	look(c, "id9", T0 + 1, &s);
	cr_expect(!s.have, "a stored policy that does not parse is not applied");
	cr_expect(s.want_fetch);
	sts_cache_free(c);
	store_close(st);
}

Test(sts_cache, background_refresh)
{
	char *err = NULL;
	struct sts_cache *c = cache(NULL, srv.port);
	struct sts_cache_state s;

	cr_expect_eq(sts_cache_refresh_later(c, "stsok.example", "id1", lo, 1), 0,
	    "no background threads yet: the caller must fetch");
	cr_assert_eq(sts_cache_refresh(c, "stsok.example", "id1", lo, 1, 0, T0, &err), STS_FETCH_OK,
	    "%s", err);
	cr_assert_eq(sts_cache_background(c, 2), 0);
	look(c, "id2", time(NULL), &s);
	cr_expect(s.have && s.want_fetch, "a new id");
	cr_expect_eq(sts_cache_refresh_later(c, "stsok.example", "id2", lo, 1), 1);
	cr_expect_eq(sts_cache_refresh_later(c, "stsok.example", "id2", lo, 1), 1, "queued once");
	cr_assert_eq(sts_cache_idle(c, 10000), 0, "the refresh finishes within 10 s");
	look(c, "id2", time(NULL), &s);
	cr_expect(s.have && !s.want_fetch, "refreshed in the background");
	cr_expect_str_eq(s.id, "id2");
	sts_cache_free(c); /* stops the threads */
}

static struct store *shared_st;

static struct store *
shared_get(void *arg)
{
	(void)arg;
	return shared_st;
}

static unsigned nfetch;

static void
count_fetch(void *arg, const char *domain, const char *txt_id, enum sts_fetch_status st,
    const struct sts_policy *p, const char *err)
{
	(void)arg, (void)domain, (void)txt_id, (void)st, (void)p, (void)err;
	__atomic_add_fetch(&nfetch, 1, __ATOMIC_SEQ_CST);
}

/*
 * Sharing with other relays (a shared store; SQLite stands in for
 * PostgreSQL, the claims and policies are the same calls): a refresh takes
 * the shared policy of the same id without fetching; another relay's
 * claim on a fetch leaves the fetch to it; a fetched policy is published.
 */
Test(sts_cache, shares_with_other_relays)
{
	char *err = NULL, *spath = xasprintf("%s/shared.db", dir);
	struct stspol_row r = { (char *)"stsok.example", (char *)"id7", (char *)"enforce", 604800,
		(char *)"mx1.stsok.example *.stsok.example", 0, 0 };
	struct store *other;
	struct sts_cache *c = cache(NULL, srv.port);
	struct sts_cache_state s;
	int64_t now = time(NULL);

	cr_assert_not_null(shared_st = store_open(spath, &err), "%s", err);
	cr_assert_not_null(other = store_open(spath, &err), "%s", err);
	store_set_relay(shared_st, "relay-me");
	store_set_relay(other, "relay-other");
	r.fetched = now;
	r.expires = now + 604800;
	cr_assert_eq(stspol_put(other, &r, &err), 0, "%s", err);
	sts_cache_on_fetch(c, count_fetch, NULL);
	sts_cache_share(c, shared_get, NULL, 60);
	cr_assert_eq(sts_cache_background(c, 1), 0);

	/* the shared policy of the same id: taken, not fetched */
	cr_expect_eq(sts_cache_refresh_later(c, "stsok.example", "id7", lo, 1), 1);
	cr_assert_eq(sts_cache_idle(c, 10000), 0);
	look(c, "id7", now, &s);
	cr_expect(s.have && !s.want_fetch, "the shared policy applies");
	cr_expect_eq(sts_cache_shared_taken(c), 1);
	cr_expect_eq(nfetch, 0, "nothing fetched");

	/* a new id another relay is fetching: left to it */
	cr_assert_eq(store_claim(other, "sts-fetch", "stsok.example/id8", now, 600, NULL, &err), 1);
	cr_expect_eq(sts_cache_refresh_later(c, "stsok.example", "id8", lo, 1), 1);
	cr_assert_eq(sts_cache_idle(c, 10000), 0);
	cr_expect_eq(nfetch, 0, "the other relay's fetch");
	look(c, "id8", now, &s);
	cr_expect(s.have && s.want_fetch, "still the old policy, still wanting the new");

	/* a new id nobody fetches: fetched here, then published to the shared store */
	cr_expect_eq(sts_cache_refresh_later(c, "stsok.example", "id9", lo, 1), 1);
	cr_assert_eq(sts_cache_idle(c, 10000), 0);
	cr_expect_eq(nfetch, 1, "fetched here");
	cr_expect_eq(sts_cache_idle(c, 10000), 0);
	memset(&r, 0, sizeof(r)); /* its strings were literals */
	cr_assert_eq(stspol_get(other, "stsok.example", &r, &err), 1, "%s", err);
	cr_expect_str_eq(r.id, "id9", "published for the other relays");
	cr_expect_eq(store_claim(other, "sts-fetch", "stsok.example/id9", now, 60, NULL, &err), 1,
	    "the fetch claim was released");
	stspol_row_clear(&r);
	sts_cache_free(c);
	store_close(other);
	store_close(shared_st);
	shared_st = NULL;
	free(spath);
}

/*
 * At the bound, the domains asked about without a policy make room first:
 * a memory-only cache keeps stsok.example's policy while 3 * STS_CACHE_MAX
 * other domains are asked about (with the whole-bucket drop it would lose
 * it within a few thousand).
 */
Test(sts_cache, bound_keeps_policies)
{
	struct sts_cache *c = cache(NULL, srv.port);
	struct sts_cache_state s;
	struct sts_policy p;
	char name[64];

	cr_assert_eq(sts_cache_refresh(c, "stsok.example", "ok1", lo, 1, 0, T0, NULL), STS_FETCH_OK);
	for (int i = 0; i < 3 * STS_CACHE_MAX; i++) {
		snprintf(name, sizeof(name), "d%d.example", i);
		sts_cache_lookup(c, name, NULL, T0, &p, &s);
		cr_assert_not(s.have);
	}
	look(c, "ok1", T0 + 1, &s);
	cr_expect(s.have, "the policy survived the churn");
	cr_expect_not(s.want_fetch);
	sts_cache_free(c);
}
