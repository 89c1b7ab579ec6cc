/*
 * report_fill.c - test helper of tests/danepol/report.sh: put outcomes
 * into an outcome store, or list what it holds.
 *
 *     fill DB add DOMAIN TIME ok|RESULT-TYPE [POLICY-STRING...]
 *     fill DB domains FROM TO      "DOMAIN<TAB>COUNT" per policy domain
 *     fill DB bulk DOMAIN TIME N ok|RESULT-TYPE
 *                                  N outcomes (times TIME, TIME+1, ... within
 *                                  86000 s of TIME) in
 *                                  transactions of 500, printing
 *                                  "committed K" (flushed) after each
 *
 * DB is a store spec (an SQLite file or a postgresql:// URI); the
 * environment variable FILL_RELAY, when set, is the relay name.
 *
 * add: one outcome from the probe source toward mx1.DOMAIN (127.0.0.1),
 * with a tlsa policy when POLICY-STRINGs are given. Exit 0, 1 on error,
 * 64 on usage.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "outcome.h"
#include "store.h"

static const char *const types[] = { "starttls-not-supported", "certificate-host-mismatch",
	"certificate-expired", "certificate-not-trusted", "validation-failure", "tlsa-invalid",
	"dnssec-invalid", "dane-required" };

static int
count_one(const struct tls_outcome *o, void *arg)
{
	(void)o;
	(*(long *)arg)++;
	return 0;
}

struct list_arg {
	struct store *s;
	long long from, to;
};

static int
list_one(const char *d, void *arg)
{
	struct list_arg *a = arg;
	char *err = NULL;
	long n = 0;

	if (store_each(a->s, a->from, a->to, d, count_one, &n, &err) < 0) {
		fprintf(stderr, "fill: %s\n", err);
		free(err);
		return 1;
	}
	printf("%s\t%ld\n", d, n);
	return 0;
}

static int
add(struct store *s, int argc, char **argv)
{
	struct tls_outcome o;
	char mx[300], *err = NULL;
	int rc = 0;

	memset(&o, 0, sizeof(o));
	o.time = strtoll(argv[4], NULL, 10);
	o.source = OUTCOME_SRC_PROBE;
	o.policy_domain = argv[3];
	o.policy_type = argc > 6 ? OUTCOME_POLICY_TLSA : OUTCOME_POLICY_NONE;
	o.policy_strings = argv + 6;
	o.npolicy_strings = argc > 6 ? (size_t)(argc - 6) : 0;
	snprintf(mx, sizeof(mx), "mx1.%s", argv[3]);
	o.mx_host = mx;
	o.receiving_ip = (char *)"127.0.0.1";
	o.sending_ip = (char *)"127.0.0.1";
	o.success = strcmp(argv[5], "ok") == 0;
	for (size_t i = 0; !o.success && i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(argv[5], types[i]) == 0)
			o.result_type = types[i];
	if (!o.success && o.result_type == NULL) {
		fprintf(stderr, "fill: unknown result type %s\n", argv[5]);
		return 1;
	}
	if (store_add(s, &o, &err) < 0) {
		fprintf(stderr, "fill: %s\n", err);
		free(err);
		rc = 1;
	}
	return rc;
}

/* bulk DOMAIN TIME N TYPE: N outcomes in transactions of 500, "committed K" after each */
static int
bulk(struct store *s, char **argv)
{
	enum { BATCH = 500 };
	static struct tls_outcome o[BATCH];
	long n = strtol(argv[5], NULL, 10), done = 0;
	char mx[300], *err = NULL;

	snprintf(mx, sizeof(mx), "mx1.%s", argv[3]);
	for (int i = 0; i < BATCH; i++) {
		o[i].source = OUTCOME_SRC_PROBE;
		o[i].policy_domain = argv[3];
		o[i].mx_host = mx;
		o[i].receiving_ip = (char *)"127.0.0.1";
		o[i].success = strcmp(argv[6], "ok") == 0;
		for (size_t k = 0; !o[i].success && k < sizeof(types) / sizeof(types[0]); k++)
			if (strcmp(argv[6], types[k]) == 0)
				o[i].result_type = types[k];
	}
	while (done < n) {
		size_t m = n - done < BATCH ? (size_t)(n - done) : BATCH;

		for (size_t i = 0; i < m; i++)
			o[i].time = strtoll(argv[4], NULL, 10) + (done + (long)i) % 86000;
		if (store_add_batch(s, o, NULL, m, NULL, &err) < 0) {
			fprintf(stderr, "fill: %s\n", err);
			free(err);
			return 1;
		}
		done += (long)m;
		printf("committed %ld\n", done);
		fflush(stdout);
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct store *s;
	char *err = NULL;
	int rc;

	if (argc < 3 || (strcmp(argv[2], "add") == 0 && argc < 6) ||
	    (strcmp(argv[2], "bulk") == 0 && argc != 7) ||
	    (strcmp(argv[2], "domains") == 0 && argc != 5)) {
		fprintf(stderr, "usage: fill DB add DOMAIN TIME ok|TYPE [POLICY...] | fill DB domains FROM TO"
				" | fill DB bulk DOMAIN TIME N ok|TYPE\n");
		return 64;
	}
	if ((s = store_open(argv[1], &err)) == NULL) {
		fprintf(stderr, "fill: %s\n", err);
		free(err);
		return 1;
	}
	if (getenv("FILL_RELAY") != NULL)
		store_set_relay(s, getenv("FILL_RELAY"));
	if (strcmp(argv[2], "add") == 0) {
		rc = add(s, argc, argv);
	} else if (strcmp(argv[2], "bulk") == 0) {
		rc = bulk(s, argv);
	} else {
		struct list_arg a = { s, strtoll(argv[3], NULL, 10), strtoll(argv[4], NULL, 10) };

		rc = store_each_domain(s, a.from, a.to, list_one, &a, &err) != 0;
		if (err != NULL)
			fprintf(stderr, "fill: %s\n", err);
		free(err);
	}
	store_close(s);
	return rc;
}
