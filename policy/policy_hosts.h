/*
 * policy_hosts.h - engine internals shared by policy_engine.c (MX stage,
 * query queue, decision assembly) and policy_hosts.c (per-host address
 * and TLSA stage, aggregation). Not a public interface. Its functions
 * start with policy_hosts_ wherever they are defined; all run on the
 * engine's caller's thread (one engine is never shared).
 */
#ifndef DANEPOL_POLICY_HOSTS_H
#define DANEPOL_POLICY_HOSTS_H

#include "policy.h"

enum eng_kind { ENG_Q_MX, ENG_Q_ADDR, ENG_Q_CNAME, ENG_Q_TLSA };

struct eng_query {
	char *name;
	uint16_t type;
	enum eng_kind kind;
	int host; /* index into d->hosts, -1 for MX */
	int cand; /* TLSA candidate index */
};

/* Work state of one host, parallel to d->hosts[i]. */
struct eng_host {
	struct dns_answer *addr[2]; /* A, AAAA answers (NULL: not asked) */
	int addr_asked;		    /* A/AAAA queries asked (0..2) */
	int addr_answered;	    /* ... and answered so far */
	char *cand[2];		    /* TLSA base domain candidates, in order */
	int ncand;
	int finished;
	/* tlsa_prefetch: the TLSA answer at the host's own name */
	int pre_state;		/* PRE_NONE, PRE_ASKED, PRE_HAVE, PRE_USED */
	int pre_wait;		/* candidate waiting for it, or -1 */
	struct dns_answer *pre; /* kept while PRE_HAVE */
};

enum { PRE_NONE, PRE_ASKED, PRE_HAVE, PRE_USED };
#define ENG_CAND_PREFETCH (-1) /* eng_query.cand of a prefetched TLSA */

struct policy_engine {
	struct policy_input in; /* strings below are our copies */
	char *domain;
	char *table_key;
	struct policy_decision *d;  /* being built; owned until taken */
	struct eng_host *host_work; /* nhost_work entries, parallel to d->hosts */
	size_t nhost_work;
	struct eng_query *q; /* every query asked; tag = index */
	size_t nq, capq, next_issue;
	int done;
	int have_ttl;
	uint32_t ttl;
};

/* Defined in policy_engine.c. */

/** Queue a lookup (name copied). */
void policy_hosts_enqueue(struct policy_engine *e, const char *name, uint16_t type,
    enum eng_kind kind, int host, int cand);
/** Fold an answer's TTL into the decision TTL. */
void policy_hosts_note_ttl(struct policy_engine *e, const struct dns_answer *a);
/** Complete the decision (why is taken over). */
void policy_hosts_finish(struct policy_engine *e, enum policy_verdict v, enum tls_level lvl,
    enum policy_reason r, char *why);

/* Defined in policy_hosts.c. */

/** Start the address stage for every host in e->d->hosts. */
void policy_hosts_start(struct policy_engine *e);
/** Handle an ADDR, CNAME or TLSA answer (ans is taken over). */
void policy_hosts_answer(struct policy_engine *e, const struct eng_query *q,
    struct dns_answer *ans);
/** Free per-host work state. */
void policy_hosts_free(struct policy_engine *e);

#endif
