/*
 * test_snapshot.c - danepold's configuration snapshot
 * (milter/snapshot.c): install, acquire and release, the swap on reload
 * with the old snapshot staying valid for those who hold it, the
 * reference counts, shutdown, and threads acquiring while the snapshot is
 * swapped. Runtimes are built over the offline world (daemon_fixture.h).
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "daemon_fixture.h"
#include "snapshot.h"

TestSuite(snapshot, .init = dfx_setup, .fini = dfx_teardown, .timeout = 120);

Test(snapshot, acquire_counts_references)
{
	struct snapshot *a = snapshot_acquire(), *b;

	cr_assert_not_null(a);
	cr_assert_not_null(a->rt);
	cr_expect_eq(a->refs, 2, "the holder's and ours");
	b = snapshot_acquire();
	cr_expect_eq(b, a, "no reload: the same snapshot");
	cr_expect_eq(a->refs, 3);
	snapshot_release(b);
	cr_expect_eq(a->refs, 2);
	snapshot_release(a);
	snapshot_release(NULL);
}

Test(snapshot, reload_keeps_old_valid_for_holders)
{
	struct snapshot *old = snapshot_acquire(), *cur;
	struct policy_runtime *old_rt = old->rt;
	struct policy_runtime *new_rt = dfx_runtime("audit_only = yes");

	cr_assert_eq(old_rt->conf->audit_only, 0);
	snapshot_install(new_rt);
	cr_expect_eq(old->rt, old_rt, "a holder's runtime never changes");
	cr_expect_eq(old->refs, 1, "the holder dropped its reference, ours is left");
	cr_expect_eq(old->rt->conf->audit_only, 0, "still readable");
	cur = snapshot_acquire();
	cr_assert_neq(cur, old);
	cr_expect_eq(cur->rt, new_rt);
	cr_expect_eq(cur->rt->conf->audit_only, 1);
	cr_expect_eq(cur->refs, 2);
	snapshot_release(old);			/* the last reference: freed */
	cr_expect_eq(cur->refs, 2, "releasing the old one leaves the new one alone");
	snapshot_release(cur);
}

Test(snapshot, shutdown)
{
	struct snapshot *held = snapshot_acquire();

	snapshot_shutdown();
	cr_expect_null(snapshot_acquire(), "nothing after shutdown");
	cr_expect_eq(held->refs, 1, "a holder keeps it past shutdown");
	cr_expect_not_null(held->rt->conf);
	snapshot_release(held);
	snapshot_shutdown();			/* twice: nothing to drop */
	cr_expect_null(snapshot_acquire());
	dfx_install(NULL);
	held = snapshot_acquire();
	cr_expect_not_null(held, "installed again");
	cr_expect_eq(held->refs, 2);
	snapshot_release(held);
}

#define T_THREADS	4
#define T_ROUNDS	20000

static atomic_int t_bad;

static void *
t_main(void *arg)
{
	(void)arg;
	for (int i = 0; i < T_ROUNDS; i++) {
		struct snapshot *s = snapshot_acquire();
		struct policy_runtime *rt;
		int audit_only;

		if (s == NULL) {
			atomic_fetch_add(&t_bad, 1);
			continue;
		}
		rt = s->rt;
		audit_only = rt->conf->audit_only;
		for (volatile int k = 0; k < 50; k++)
			;
		if (s->rt != rt || rt->conf->audit_only != audit_only)
			atomic_fetch_add(&t_bad, 1);
		snapshot_release(s);
	}
	return NULL;
}

Test(snapshot, swap_under_threads)
{
	pthread_t tid[T_THREADS];
	struct snapshot *s;

	for (int i = 0; i < T_THREADS; i++)
		cr_assert_eq(pthread_create(&tid[i], NULL, t_main, NULL), 0);
	for (int i = 0; i < 8; i++)
		dfx_install(i % 2 ? NULL : "audit_only = yes");
	for (int i = 0; i < T_THREADS; i++)
		pthread_join(tid[i], NULL);
	cr_expect_eq(atomic_load(&t_bad), 0, "a held snapshot changed or was missing");
	s = snapshot_acquire();
	cr_expect_eq(s->refs, 2, "every reference returned");
	cr_expect_eq(s->rt->conf->audit_only, 0, "the last install is current");
	snapshot_release(s);
}
