/*
 * selfcheck_files.c - the certificate files our MTA serves (selfcheck.h):
 * which they are (postconf, or the caller's list), loaded with certload,
 * and each checked against the published TLSA records of every DANE host
 * before it is deployed, through probe_tls_chain_verify() (OpenSSL's DANE
 * verification, the same set-up as a handshake).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/x509v3.h>

#include "buf.h"
#include "clock.h"
#include "mem.h"
#include "probe.h"
#include "selfcheck_int.h"
#include "tlsa_gen.h"

#define POSTCONF_MAX	 (64 * 1024)
#define POSTCONF_WAIT_MS 10000
#define POSTCONF_FILES	 32

extern char **environ;

/* ------------------------------------------------------------ loading */

void
selfcheck_chains_load(char *const *paths, size_t n, struct findings *f,
    struct selfcheck_chain **out, size_t *nout)
{
	*out = xcalloc(n ? n : 1, sizeof(**out));
	*nout = 0;
	for (size_t i = 0; i < n; i++) {
		struct selfcheck_chain *c = &(*out)[*nout];
		char *err = NULL;

		if (certload_file(paths[i], &c->c, &err) < 0) {
			findings_add(f, FINDING_UNKNOWN, "cert-file-unreadable", paths[i],
			    "fix the file or the setting that names it", "%s", err);
			free(err);
			continue;
		}
		if (c->c.ncert == 0) { /* a key file of smtpd_tls_chain_files */
			certload_clear(&c->c);
			continue;
		}
		c->path = xstrdup(paths[i]);
		(*nout)++;
	}
}

void
selfcheck_chains_free(struct selfcheck_chain *c, size_t n)
{
	for (size_t i = 0; c && i < n; i++) {
		free(c[i].path);
		certload_clear(&c[i].c);
	}
	free(c);
}

/* --------------------------------------------------------- postconf -h */

/* Read fd until EOF, POSTCONF_MAX or the deadline. 0, or -1 with *err. */
static int
read_all(int fd, struct buf *b, int64_t deadline, char **err)
{
	char tmp[4096];

	for (;;) {
		struct pollfd p = { fd, POLLIN, 0 };
		int64_t left = deadline - clock_now_ms();
		ssize_t got;

		if (left <= 0 || poll(&p, 1, (int)left) == 0) {
			*err = xstrdup("postconf did not finish within 10 s");
			return -1;
		}
		got = read(fd, tmp, sizeof(tmp));
		if (got < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (got <= 0)
			return got == 0 ? 0
					: (*err = xasprintf("postconf: %s", strerror(errno)), -1);
		if (b->len + (size_t)got > POSTCONF_MAX) {
			*err = xstrdup("postconf wrote more than 64 KB");
			return -1;
		}
		buf_append(b, tmp, (size_t)got);
	}
}

/* Run argv, its stdout into b. 0, or -1 with *err. */
static int
run_capture(char *const *argv, struct buf *b, char **err)
{
	posix_spawn_file_actions_t fa;
	int fds[2], st = 0, rc = -1;
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) < 0) {
		*err = xasprintf("pipe: %s", strerror(errno));
		return -1;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
	errno = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(fds[1]);
	if (errno != 0) {
		*err = xasprintf("cannot run %s: %s", argv[0], strerror(errno));
		close(fds[0]);
		return -1;
	}
	rc = read_all(fds[0], b, clock_now_ms() + POSTCONF_WAIT_MS, err);
	close(fds[0]);
	if (rc < 0)
		kill(pid, SIGKILL);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (rc == 0 && !(WIFEXITED(st) && WEXITSTATUS(st) == 0)) {
		*err = xasprintf("%s failed (status %d)", argv[0],
		    WIFEXITED(st) ? WEXITSTATUS(st) : -1);
		rc = -1;
	}
	return rc;
}

size_t
selfcheck_postconf_parse(char *out, char **paths, size_t max)
{
	size_t n = 0;
	char *p, *eol, *save = NULL;

	/*
	 * One line per parameter, in the order asked. A non-empty
	 * smtpd_tls_chain_files takes precedence over the legacy cert_file
	 * and eccert_file (postconf(5)): Debian's main.cf still names the
	 * snakeoil certificate there, which smtpd then does not serve.
	 */
	eol = strchr(out, '\n');
	if (eol != NULL && strspn(out, " \t\r,") < (size_t)(eol - out))
		*eol = 0;
	for (p = strtok_r(out, " \t\r\n,", &save); p && n < max; p = strtok_r(NULL, " \t\r\n,", &save)) {
		size_t j;
		const unsigned char *c;

		for (c = (const unsigned char *)p; *c >= 0x20 && *c != 0x7f; c++)
			;
		if (*c != 0) /* a control byte: no file name of ours */
			continue;
		for (j = 0; j < n && strcmp(paths[j], p) != 0; j++)
			;
		if (j == n) /* one file may be named by two parameters */
			paths[n++] = xstrdup(p);
	}
	return n;
}

int
selfcheck_postconf_files(const char *postconf, const char *config_dir, char ***paths, char **err)
{
	char *argv[] = { (char *)(postconf ? postconf : "postconf"), "-x", "-h", NULL, NULL,
		"smtpd_tls_chain_files", "smtpd_tls_cert_file", "smtpd_tls_eccert_file", NULL };
	struct buf b;
	size_t n;

	if (config_dir) {
		argv[3] = "-c";
		argv[4] = (char *)config_dir;
	} else {
		memmove(&argv[3], &argv[5], 4 * sizeof(argv[0]));
	}
	*paths = NULL;
	buf_init(&b);
	if (run_capture(argv, &b, err) < 0) {
		buf_free(&b);
		return -1;
	}
	*paths = xcalloc(POSTCONF_FILES + 1, sizeof(char *));
	n = selfcheck_postconf_parse(b.s, *paths, POSTCONF_FILES);
	buf_free(&b);
	return (int)n;
}

/* ---------------------------------------------------------- checking one */

/* SHA2-256 hex of each certificate of c and of its key, for ta_in_chain. */
static int
file_ta_in_chain(const struct policy_host *h, const struct certload *c)
{
	char *cert[CERTLOAD_MAX_CERTS] = { 0 }, *spki[CERTLOAD_MAX_CERTS] = { 0 };
	int rc;

	for (size_t i = 0; i < c->ncert; i++) {
		char *a = tlsa_gen_cert(c->cert[i], 0, 1), *b = tlsa_gen_cert(c->cert[i], 1, 1);

		/* "S M HEX": the digest after the 4 characters "0 1 " */
		cert[i] = a && strlen(a) > 4 ? xstrdup(a + 4) : NULL;
		spki[i] = b && strlen(b) > 4 ? xstrdup(b + 4) : NULL;
		free(a);
		free(b);
	}
	rc = selfcheck_ta_in_chain(h, cert, spki, c->ncert);
	for (size_t i = 0; i < c->ncert; i++) {
		free(cert[i]);
		free(spki[i]);
	}
	return rc;
}

static void
file_host(const struct policy_decision *d, const struct policy_host *h,
    const struct selfcheck_chain *c, struct selfcheck_result *r)
{
	struct probe_addr a;
	char *where = xasprintf("%s for %s", c->path, h->name);
	int ta = file_ta_in_chain(h, &c->c);
	/* a self-signed leaf has no CA to add: a miss is a plain mismatch */
	int selfsigned = X509_check_issued(c->c.cert[0], c->c.cert[0]) == X509_V_OK;
	int ta_missing = ta == 0 && !selfsigned;

	memset(&a, 0, sizeof(a));
	if (probe_tls_chain_verify(d, h, c->c.cert, c->c.ncert, &a) < 0)
		findings_add(&r->f, FINDING_UNKNOWN, "cert-file-unchecked", where,
		    "see the reason; danepol check -v DOMAIN shows the records", "%s",
		    a.detail ? a.detail : "cannot verify");
	else if (a.authenticated)
		findings_add(&r->f, ta == 0 ? FINDING_WARNING : FINDING_OK,
		    ta == 0 ? "cert-file-ta-missing" : "cert-file-ok", where,
		    ta != 0 ? NULL
			: selfsigned
			? "drop the unused 2 x x record: a self-signed certificate has no CA"
			: "add the issuing CA after the certificate in the file, or drop "
			  "the unused 2 x x record",
		    "matches the published %s at depth %d%s", a.matched ? a.matched : "record",
		    a.match_depth,
		    ta == 0 ? "; the DANE-TA record matches no certificate in the file" : "");
	else
		findings_add(&r->f, FINDING_CRITICAL,
		    ta_missing ? "cert-file-ta-missing" : "cert-file-mismatch", where,
		    ta_missing
			? "add the issuing CA after the certificate in the file"
			: "publish the file's record first (danepol tlsa -c FILE HOST), wait "
			  "until danepol rollover check says so, then deploy",
		    "does not match the published TLSA records (%s): deployed, it makes DANE "
		    "senders defer all mail to %s",
		    a.verify_text ? a.verify_text : "no record matched", h->name);
	probe_addr_clear(&a);
	free(where);
}

void
selfcheck_file(const struct policy_decision *d, const struct selfcheck_chain *c,
    const struct selfcheck_opts *o, struct selfcheck_result *r)
{
	char *subject = certload_subject(c->c.cert[0]);
	char *what = xasprintf("the certificate in %s (%s)", c->path, subject);

	for (size_t i = 0; i < d->nhosts; i++)
		if (d->hosts[i].state == POLICY_HOST_DANE)
			file_host(d, &d->hosts[i], c, r);
	selfcheck_cert_expiry(c->path, what, certload_not_after(c->c.cert[0]), o, r);
	free(subject);
	free(what);
}
