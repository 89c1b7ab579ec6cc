/*
 * cli_tlsa.c - `danepol tlsa`: the TLSA records an operator publishes for
 * its own MX hosts (own/certload.h, own/tlsa_gen.h).
 *
 *     danepol tlsa (-c FILE | -k FILE | -s HOST[:PORT] | --connect ADDR[:PORT])
 *         [--next FILE] [--ee-only] [--sha512] [--record USM]...
 *         [--ca-file FILE] [--ttl N] [-p N] [--json] HOST...
 *
 * Input, exactly one: a certificate chain file (leaf first, PEM or DER),
 * a private or public key file, or a live server: STARTTLS through the
 * probe layer (probe_run() over a decision made here with one
 * opportunistic host, so no DNS and no TLSA are needed: the chain the
 * server presents is recorded, DER included). --server resolves HOST with
 * the system resolver (getaddrinfo) and takes the first address that
 * answers; --connect names the address.
 *
 * Records for each HOST (owner "_PORT._tcp.HOST."): by default "3 1 1" of
 * the leaf key and "2 1 1" of the issuing CA (the chain's, else found in
 * --ca-file or the system store: then a warning that the server must send
 * it; none known: said on stderr); --ee-only drops the CA record,
 * --sha512 adds "3 1 2" (and "2 1 2"), --next FILE the next key's "3 1 1"
 * ("3 1 1 + 3 1 1"). --record USM (repeatable) replaces the defaults by
 * the records named (e.g. 301, 211): for cross-checks with other tools.
 * Output: zone-file lines, or with --json one JSON array
 * (doc/tlsa.schema.json).
 *
 * Exit: 0 records printed; 64 usage; 65 a file that is no usable
 * certificate or key (data error: garbage, mismatched key, too large,
 * empty), or a record that cannot be made from the input; 66 an input
 * file that cannot be read; 69 the server cannot be reached or did not
 * present a certificate; 70 internal; 74 output failed.
 */
#include "config.h"

#include <arpa/inet.h>
#include <getopt.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "buf.h"
#include "certload.h"
#include "cli.h"
#include "conf.h"
#include "log.h"
#include "mem.h"
#include "policy.h"
#include "policy_check.h"
#include "probe.h"
#include "tlsa_gen.h"

#define TLSA_MAX_RECORDS 16 /* --record options */

struct tlsa_cli {
	const char *conf_path;
	const char *cert, *key, *server, *connect, *next, *ca_file;
	int ee_only, sha512, json;
	unsigned ttl, port;
	unsigned rec[TLSA_MAX_RECORDS]; /* --record: U*100 + S*10 + M */
	size_t nrec;
	char **hosts;
	int nhosts;
};

/* One record to print. */
struct tlsa_out {
	unsigned usage, selector, mtype;
	char *data;	  /* HEX */
	const char *what; /* "current", "next", "issuer" */
	char *subject;	  /* or NULL */
};

struct tlsa_list {
	struct tlsa_out *v;
	size_t n;
};

void
cli_tlsa_usage(FILE *fp)
{
	fprintf(fp,
	    "usage: danepol tlsa (-c FILE | -k FILE | -s HOST[:PORT] | --connect ADDR[:PORT])\n"
	    "           [--next FILE] [--ee-only] [--sha512] [--record USM]... [--ca-file FILE]\n"
	    "           [--ttl N] [-p N] [--json] HOST...\n"
	    "  -c, --cert FILE     certificate chain (leaf first; PEM or DER)\n"
	    "  -k, --key FILE      private or public key (PEM or DER): 3 1 x records only\n"
	    "  -s, --server H[:P]  a live server: STARTTLS on port P (default 25), its chain\n"
	    "      --connect A[:P] the same at address A ([A]:P for IPv6)\n"
	    "      --next FILE     add the next key's 3 1 1 (key or certificate file)\n"
	    "      --ee-only       no 2 1 1 record of the issuing CA\n"
	    "      --sha512        add the SHA2-512 records (3 1 2, 2 1 2)\n"
	    "      --record USM    only this record (e.g. 311, 301, 211; repeatable)\n"
	    "      --ca-file FILE  CA store to find an issuer not in the chain (default:\n"
	    "                      the system's)\n"
	    "      --ttl N         TTL of the records (default 3600)\n"
	    "  -p, --port N        SMTP port of the TLSA names (default 25)\n"
	    "  -j, --json          a JSON array (doc/tlsa.schema.json)\n"
	    "  -h, --help          this text\n"
	    "exit: 0 ok, 64 usage, 65 not a usable certificate or key, 66 file unreadable,\n"
	    "      69 server unreachable\n");
}

static int
usage_error(void)
{
	cli_tlsa_usage(stderr);
	return EX_USAGE;
}

/* Options into *o. -1 to go on, else the exit status. */
static int
tlsacli_parse(const struct cli_global *g, int argc, char **argv, struct tlsa_cli *o)
{
	enum { O_CONNECT = 256, O_NEXT, O_EE_ONLY, O_SHA512, O_RECORD, O_CA_FILE, O_TTL };
	static const struct option longopts[] = {
		{ "cert", required_argument, NULL, 'c' },
		{ "key", required_argument, NULL, 'k' },
		{ "server", required_argument, NULL, 's' },
		{ "connect", required_argument, NULL, O_CONNECT },
		{ "next", required_argument, NULL, O_NEXT },
		{ "ee-only", no_argument, NULL, O_EE_ONLY },
		{ "sha512", no_argument, NULL, O_SHA512 },
		{ "record", required_argument, NULL, O_RECORD },
		{ "ca-file", required_argument, NULL, O_CA_FILE },
		{ "ttl", required_argument, NULL, O_TTL },
		{ "port", required_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned v;
	int ch, ninput;

	memset(o, 0, sizeof(*o));
	o->conf_path = g->conf_path;
	o->ttl = 3600;
	o->port = 25;
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":c:k:s:p:jh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			o->cert = optarg;
			break;
		case 'k':
			o->key = optarg;
			break;
		case 's':
			o->server = optarg;
			break;
		case O_CONNECT:
			o->connect = optarg;
			break;
		case O_NEXT:
			o->next = optarg;
			break;
		case O_EE_ONLY:
			o->ee_only = 1;
			break;
		case O_SHA512:
			o->sha512 = 1;
			break;
		case O_CA_FILE:
			o->ca_file = optarg;
			break;
		case O_RECORD:
			if (strlen(optarg) != 3 || (optarg[0] != '2' && optarg[0] != '3') ||
			    (optarg[1] != '0' && optarg[1] != '1') || optarg[2] < '0' ||
			    optarg[2] > '2') {
				msg_error("tlsa: --record wants USM with U 2 or 3, S 0 or 1, "
					  "M 0..2 (e.g. 311): %.32s",
				    optarg);
				return usage_error();
			}
			if (o->nrec == TLSA_MAX_RECORDS) {
				msg_error("tlsa: at most %d --record options", TLSA_MAX_RECORDS);
				return usage_error();
			}
			o->rec[o->nrec++] = (unsigned)atoi(optarg);
			break;
		case O_TTL:
			if (cli_parse_uint(optarg, 9, 0, 2147483647U, &v) < 0) {
				msg_error("tlsa: --ttl wants 0..2147483647: %.32s", optarg);
				return usage_error();
			}
			o->ttl = v;
			break;
		case 'p':
			if (cli_parse_uint(optarg, 5, 1, 65535, &o->port) < 0) {
				msg_error("tlsa: --port wants 1..65535: %.32s", optarg);
				return usage_error();
			}
			break;
		case 'j':
			o->json = 1;
			break;
		default: /* -h, ':' or '?' */
			return cli_other_option("tlsa", ch, argv, cli_tlsa_usage);
		}
	}
	ninput = !!o->cert + !!o->key + !!o->server + !!o->connect;
	if (ninput != 1) {
		msg_error("tlsa: give exactly one of -c/--cert, -k/--key, -s/--server, --connect");
		return usage_error();
	}
	if (optind >= argc) {
		msg_error("tlsa: no host given (the MX host names to make records for)");
		return usage_error();
	}
	o->hosts = argv + optind;
	o->nhosts = argc - optind;
	return -1;
}

/* Load path: 0, or the exit status after the error (66 unreadable, 65 data). */
static int
load_file(const char *path, struct certload *c)
{
	struct stat sb;
	char *err = NULL;

	if (stat(path, &sb) < 0 || access(path, R_OK) < 0) {
		msg_error("%s: cannot be read: %m (check the path and its permissions)", path);
		return EX_NOINPUT;
	}
	if (certload_file(path, c, &err) < 0) {
		msg_error("%s", err ? err : path);
		free(err);
		return EX_DATAERR;
	}
	return 0;
}

static void
list_add(struct tlsa_list *l, unsigned u, char *sm_hex, const char *what, X509 *subj_of)
{
	struct tlsa_out *r;
	unsigned s = 0, m = 0;
	int off = 0;

	l->v = xreallocarray(l->v, l->n + 1, sizeof(*l->v));
	r = &l->v[l->n++];
	sscanf(sm_hex, "%u %u %n", &s, &m, &off);
	r->usage = u;
	r->selector = s;
	r->mtype = m;
	r->data = xstrdup(sm_hex + off);
	r->what = what;
	r->subject = subj_of ? certload_subject(subj_of) : NULL;
	free(sm_hex);
}

static void
list_free(struct tlsa_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].data);
		free(l->v[i].subject);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/*
 * The data of record (sel, mt) of x (a certificate, or NULL) / k (its key).
 * NULL with an error when selector 0 is asked of a bare key.
 */
static char *
make_data(X509 *x, EVP_PKEY *k, unsigned sel, unsigned mt, const char *what)
{
	char *s;

	if (x == NULL && sel == 0) {
		msg_error("tlsa: a record with selector 0 needs the certificate of the %s key, "
			  "not only the key: give a certificate file",
		    what);
		return NULL;
	}
	s = x ? tlsa_gen_cert(x, sel, mt) : tlsa_gen_key(k, mt);
	if (s == NULL)
		msg_error("tlsa: OpenSSL could not make the %u %u record of the %s key", sel, mt,
		    what);
	return s;
}

/* The issuer of chain[0] (new reference) or NULL after saying why on stderr. */
static X509 *
find_issuer(const struct tlsa_cli *o, X509 *const *chain, size_t n, const char *src, int *ex)
{
	X509_STORE *st = NULL;
	X509 *iss;
	char *err = NULL, *subj, *isubj;
	int in_chain = 0;

	iss = tlsa_gen_issuer(chain, n, NULL, &in_chain);
	if (iss != NULL)
		return iss;
	subj = certload_subject(chain[0]);
	if (X509_check_issued(chain[0], chain[0]) == X509_V_OK) {
		msg_warn("tlsa: %s is self-signed: no issuing CA, no 2 1 1 record (publish 3 1 1)",
		    subj);
		free(subj);
		return NULL;
	}
	st = tlsa_gen_store(o->ca_file, &err);
	if (st == NULL) {
		msg_error("tlsa: %s", err ? err : "the CA store cannot be loaded");
		free(err);
		free(subj);
		*ex = o->ca_file ? EX_NOINPUT : EX_SOFTWARE;
		return NULL;
	}
	iss = tlsa_gen_issuer(chain, n, st, &in_chain);
	X509_STORE_free(st);
	if (iss == NULL) {
		msg_warn("tlsa: the issuing CA of %s is known neither from %s nor from %s: no "
			 "2 1 1 record (give the chain, or the CA with --ca-file)",
		    subj, src, o->ca_file ? o->ca_file : "the system CA store");
	} else {
		isubj = certload_subject(iss);
		msg_warn("tlsa: the issuing CA %s is not in %s (found in %s): the server must "
			 "send it in its chain, else the 2 1 1 record does not match",
		    isubj, src, o->ca_file ? o->ca_file : "the system CA store");
		free(isubj);
	}
	free(subj);
	return iss;
}

/* The records of one input into *l: 0, or an exit status. */
static int
make_records(const struct tlsa_cli *o, X509 *const *chain, size_t n, EVP_PKEY *key,
    const struct certload *next, const char *src, struct tlsa_list *l)
{
	unsigned defaults[6];
	const unsigned *rec;
	size_t nrec = 0;
	X509 *leaf = n > 0 ? chain[0] : NULL, *iss = NULL;
	int ex = 0, need_issuer = 0;
	char *s;

	if (o->nrec > 0) {
		rec = o->rec;
		nrec = o->nrec;
	} else {
		defaults[nrec++] = 311;
		if (o->sha512)
			defaults[nrec++] = 312;
		if (!o->ee_only && leaf != NULL) {
			defaults[nrec++] = 211;
			if (o->sha512)
				defaults[nrec++] = 212;
		}
		rec = defaults;
	}
	for (size_t i = 0; i < nrec; i++)
		need_issuer |= rec[i] / 100 == 2;
	if (need_issuer && leaf == NULL) {
		if (o->nrec > 0) {
			msg_error("tlsa: a 2 x x record needs a certificate chain, not a key: "
				  "give -c FILE or -s HOST");
			return EX_USAGE;
		}
	}
	if (o->nrec == 0 && leaf == NULL && !o->ee_only)
		msg_info("tlsa: a key has no issuer: only the 3 1 x records");
	if (need_issuer && leaf != NULL) {
		iss = find_issuer(o, chain, n, src, &ex);
		if (ex)
			return ex;
	}
	/* current key first, then the next key, then the issuer */
	for (size_t i = 0; i < nrec; i++) {
		if (rec[i] / 100 != 3)
			continue;
		if ((s = make_data(leaf, key, rec[i] / 10 % 10, rec[i] % 10, "current")) == NULL) {
			ex = EX_DATAERR;
			goto out;
		}
		list_add(l, 3, s, "current", leaf);
	}
	if (next != NULL) {
		for (size_t i = 0; i < nrec; i++) {
			X509 *nx = next->ncert ? next->cert[0] : NULL;

			if (rec[i] / 100 != 3)
				continue;
			if ((s = make_data(nx, next->key, rec[i] / 10 % 10, rec[i] % 10, "next")) ==
			    NULL) {
				ex = EX_DATAERR;
				goto out;
			}
			list_add(l, 3, s, "next", nx);
		}
	}
	for (size_t i = 0; iss != NULL && i < nrec; i++) {
		if (rec[i] / 100 != 2)
			continue;
		if ((s = make_data(iss, NULL, rec[i] / 10 % 10, rec[i] % 10, "issuer")) == NULL) {
			ex = EX_DATAERR;
			goto out;
		}
		list_add(l, 2, s, "issuer", iss);
	}
out:
	X509_free(iss);
	return ex;
}

/* ------------------------------------------------------------ --server */

/* A decision with one opportunistic host at addr: STARTTLS, no DANE. */
static struct policy_decision *
server_decision(const char *name, const char *addr, unsigned port)
{
	struct policy_decision *d = policy_decision_simple(name, POLICY_TRY, TLS_LEVEL_MAY,
	    POLICY_R_NO_TLSA, "danepol tlsa --server");
	struct policy_host *h;

	d->no_mx = 1;
	d->port = port;
	d->hosts = xcalloc(1, sizeof(*d->hosts));
	d->nhosts = 1;
	h = &d->hosts[0];
	h->name = xstrdup(name);
	h->preference = -1;
	h->addr_queried = 1;
	h->addr_status = DNS_DATA;
	h->addrs = xcalloc(1, sizeof(char *));
	h->addrs[0] = xstrdup(addr);
	h->naddrs = 1;
	h->tlsa_state = POLICY_TLSA_NONE;
	h->state = POLICY_HOST_OPPORTUNISTIC;
	h->reason = POLICY_R_NO_TLSA;
	return d;
}

/* "host", "host:port", "[v6]:port", "v6" into host (malloc'd) and *port. */
static int
split_server(const char *s, unsigned def_port, char **host, unsigned *port)
{
	const char *colon;

	*port = def_port;
	if (s[0] == '[') {
		const char *end = strchr(s, ']');

		if (end == NULL || end == s + 1)
			return -1;
		*host = xstrndup(s + 1, (size_t)(end - s - 1));
		if (end[1] == 0)
			return 0;
		if (end[1] != ':' || cli_parse_uint(end + 2, 5, 1, 65535, port) < 0)
			goto bad;
		return 0;
	}
	colon = strrchr(s, ':');
	if (colon != NULL && strchr(s, ':') == colon) {
		if (colon == s || cli_parse_uint(colon + 1, 5, 1, 65535, port) < 0)
			return -1;
		*host = xstrndup(s, (size_t)(colon - s));
		return 0;
	}
	if (*s == 0)
		return -1;
	*host = xstrdup(s); /* a name, or a bare IPv6 address */
	return 0;
bad:
	free(*host);
	*host = NULL;
	return -1;
}

/* The probed chain into *chain (X509s the caller frees): 0, or an exit status. */
static int
server_chain(const struct tlsa_cli *o, X509 **chain, size_t *n, char **src)
{
	struct probe_opts po;
	struct conf *c;
	struct addrinfo hints, *res = NULL, *ai;
	char *host = NULL, abuf[INET6_ADDRSTRLEN];
	unsigned port;
	int ex = EX_UNAVAILABLE, gai;
	char **addrs = NULL;
	size_t naddrs = 0;

	*n = 0;
	if (o->connect) {
		unsigned char tmp[16];
		char *a = NULL;
		unsigned p;

		if (split_server(o->connect, 25, &a, &p) < 0 ||
		    (inet_pton(AF_INET, a, tmp) != 1 && inet_pton(AF_INET6, a, tmp) != 1)) {
			msg_error("tlsa: --connect wants ADDR[:PORT] or [IPV6]:PORT: %.64s",
			    o->connect);
			free(a);
			return EX_USAGE;
		}
		port = p;
		addrs = xcalloc(1, sizeof(char *));
		addrs[naddrs++] = a;
		host = xstrdup(o->hosts[0]);
	} else {
		if (split_server(o->server, 25, &host, &port) < 0) {
			msg_error("tlsa: --server wants HOST[:PORT] or [ADDR]:PORT: %.64s",
			    o->server);
			return EX_USAGE;
		}
		memset(&hints, 0, sizeof(hints));
		hints.ai_socktype = SOCK_STREAM;
		if ((gai = getaddrinfo(host, NULL, &hints, &res)) != 0) {
			msg_error("tlsa: %s: %s", host, gai_strerror(gai));
			free(host);
			return EX_UNAVAILABLE;
		}
		for (ai = res; ai != NULL; ai = ai->ai_next) {
			const void *p = ai->ai_family == AF_INET
			    ? (const void *)&((struct sockaddr_in *)(void *)ai->ai_addr)->sin_addr
			    : (const void *)&((struct sockaddr_in6 *)(void *)ai->ai_addr)
				  ->sin6_addr;

			if ((ai->ai_family != AF_INET && ai->ai_family != AF_INET6) ||
			    inet_ntop(ai->ai_family, p, abuf, sizeof(abuf)) == NULL)
				continue;
			addrs = xreallocarray(addrs, naddrs + 1, sizeof(char *));
			addrs[naddrs++] = xstrdup(abuf);
		}
		freeaddrinfo(res);
	}
	if ((c = policy_check_load(o->conf_path)) == NULL) {
		ex = EX_CONFIG;
		goto out;
	}
	memset(&po, 0, sizeof(po));
	po.step_timeout_ms = c->probe_step_timeout_ms;
	po.helo = c->probe_helo;
	po.port = port;
	for (size_t i = 0; i < naddrs && *n == 0; i++) {
		struct policy_decision *d = server_decision(host, addrs[i], port);
		struct probe_result *r = probe_run(d, &po);
		const struct probe_addr *a = r->naddrs ? &r->addrs[0] : NULL;

		policy_decision_unref(d);
		if (a == NULL || a->stage != PROBE_ST_TLS || a->nchain == 0) {
			msg_warn("tlsa: %s[%s]:%u: no TLS session (%s%s%s)", host, addrs[i], port,
			    a ? probe_stage_name(a->stage) : "not probed",
			    a && a->detail ? ": " : "", a && a->detail ? a->detail : "");
			probe_result_free(r);
			continue;
		}
		for (size_t k = 0; k < a->nchain && *n < CERTLOAD_MAX_CERTS; k++) {
			const unsigned char *p = a->chain[k].der;
			X509 *x = p ? d2i_X509(NULL, &p, (long)a->chain[k].der_len) : NULL;

			if (x != NULL)
				chain[(*n)++] = x;
		}
		*src = xasprintf("the chain %s[%s]:%u presents", host, addrs[i], port);
		probe_result_free(r);
	}
	conf_free(c);
	if (*n == 0)
		msg_error("tlsa: %s: no address presented a certificate over STARTTLS", host);
	else
		ex = 0;
out:
	for (size_t i = 0; i < naddrs; i++)
		free(addrs[i]);
	free(addrs);
	free(host);
	return ex;
}

/* ------------------------------------------------------------ output */

static int
print_zone(FILE *fp, const struct tlsa_cli *o, char *const *owners, const struct tlsa_list *l)
{
	for (int h = 0; h < o->nhosts; h++)
		for (size_t i = 0; i < l->n; i++)
			fprintf(fp, "%s %u IN TLSA %u %u %u %s\n", owners[h], o->ttl, l->v[i].usage,
			    l->v[i].selector, l->v[i].mtype, l->v[i].data);
	return 0;
}

static int
print_json(FILE *fp, const struct tlsa_cli *o, char *const *owners, const struct tlsa_list *l)
{
	json_t *a = json_array();
	char *s;

	for (int h = 0; h < o->nhosts; h++)
		for (size_t i = 0; i < l->n; i++) {
			const struct tlsa_out *r = &l->v[i];

			json_array_append_new(a,
			    json_pack("{s:s, s:I, s:I, s:I, s:I, s:s, s:s, s:o}", "owner",
				owners[h], "ttl", (json_int_t)o->ttl, "usage", (json_int_t)r->usage,
				"selector", (json_int_t)r->selector, "mtype", (json_int_t)r->mtype,
				"data", r->data, "what", r->what, "subject",
				r->subject ? json_string(r->subject) : json_null()));
		}
	s = json_dumps(a, JSON_INDENT(2) | JSON_ENSURE_ASCII);
	json_decref(a);
	if (s == NULL) {
		msg_error("tlsa: cannot serialise the records");
		return -1;
	}
	fputs(s, fp);
	putc('\n', fp);
	free(s);
	return 0;
}

int
cli_tlsa(const struct cli_global *g, int argc, char **argv)
{
	struct tlsa_cli o;
	struct certload in, next;
	struct tlsa_list l;
	X509 *schain[CERTLOAD_MAX_CERTS];
	X509 *const *chain = NULL;
	size_t n = 0, nserver = 0;
	EVP_PKEY *key = NULL;
	char **owners = NULL, *src = NULL, *err = NULL;
	int ex;

	memset(&in, 0, sizeof(in));
	memset(&next, 0, sizeof(next));
	memset(&l, 0, sizeof(l));
	if ((ex = tlsacli_parse(g, argc, argv, &o)) >= 0)
		return ex;
	owners = xcalloc((size_t)o.nhosts, sizeof(char *));
	for (int i = 0; i < o.nhosts; i++)
		if ((owners[i] = tlsa_gen_owner(o.hosts[i], o.port, &err)) == NULL) {
			msg_error("tlsa: %s", err ? err : o.hosts[i]);
			free(err);
			ex = EX_USAGE;
			goto out;
		}
	if (o.next != NULL && (ex = load_file(o.next, &next)) != 0)
		goto out;
	if (o.cert || o.key) {
		const char *path = o.cert ? o.cert : o.key;

		if ((ex = load_file(path, &in)) != 0)
			goto out;
		if (o.cert && in.ncert == 0) {
			msg_error(
			    "%s: holds a key but no certificate: use -k/--key for a key file, "
			    "or give the certificate chain",
			    path);
			ex = EX_DATAERR;
			goto out;
		}
		chain = in.cert;
		n = in.ncert;
		key = in.key;
		src = xstrdup(path);
	} else {
		if ((ex = server_chain(&o, schain, &nserver, &src)) != 0)
			goto out;
		chain = schain;
		n = nserver;
		key = X509_get0_pubkey(schain[0]);
	}
	if ((ex = make_records(&o, chain, n, key, o.next ? &next : NULL, src, &l)) != 0)
		goto out;
	if (o.json ? print_json(stdout, &o, owners, &l) < 0
		   : print_zone(stdout, &o, owners, &l) < 0)
		ex = EX_SOFTWARE;
	else if (fflush(stdout) != 0 || ferror(stdout))
		ex = EX_IOERR;
out:
	for (size_t i = 0; i < nserver; i++)
		X509_free(schain[i]);
	for (int i = 0; owners && i < o.nhosts; i++)
		free(owners[i]);
	free(owners);
	free(src);
	list_free(&l);
	certload_clear(&in);
	certload_clear(&next);
	return ex;
}
