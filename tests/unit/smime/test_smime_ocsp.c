/*
 * test_smime_ocsp.c - smime/smime_ocsp.h against `openssl ocsp` serving the
 * world's S/MIME index (WORLD_DIR/pki/smime/index.txt, tests/world/README.md)
 * at ocsp.smime.example:8888 (A 127.0.0.1 in the signed world).
 *
 * Every test runs in its own network namespace (criterion runs each test
 * in its own process; .init calls unshare(CLONE_NEWNET) and brings lo up),
 * so the fixed port 8888 never collides with anything else; the fault
 * responder of the world is started inside it. Without the privilege to
 * unshare, the tests skip.
 *
 * Cases: good, revoked, a cached answer once the responder is gone, a
 * responder that refuses connections (fast error, and that error cached),
 * a certificate without a responder, a responder that never answers (the
 * timeout holds; cut by a nearer deadline, the error is not cached), an
 * answer signed by a key the issuer never authorised.
 */
#define _GNU_SOURCE
#include "config.h"

#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "buf.h"
#include "clock.h"
#include "dns.h"
#include "mem.h"
#include "smime_ocsp.h"
#include "smime_pki.h"
#include "world.h"

#define PORT 8888

static struct world w;
static int world_ok;
static struct dns_resolver *res;
static pid_t responder_pid;
static char responder_log[] = "/tmp/smime-ocsp-log-XXXXXX";

static void
lo_up(void)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	cr_assert_geq(fd, 0);
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "lo");
	cr_assert_eq(ioctl(fd, SIOCGIFFLAGS, &ifr), 0);
	ifr.ifr_flags |= IFF_UP;
	cr_assert_eq(ioctl(fd, SIOCSIFFLAGS, &ifr), 0, "lo up: %m");
	close(fd);
}

static void
setup(void)
{
	struct dns_options o;
	char *err = NULL;

	if (unshare(CLONE_NEWNET) != 0)
		cr_skip_test("cannot unshare the network namespace (%m): needs root or CAP_SYS_ADMIN");
	lo_up();
	world_ok = world_start(&w, 300) == 0;
	if (!world_ok)
		cr_skip_test("offline world not available (WORLD_DIR/FAULTDNS unset?)");
	world_dns_options(&w, &o);
	res = dns_resolver_new(&o, &err);
	cr_assert_not_null(res, "resolver: %s", err ? err : "?");
}

static void
stop_responder(void)
{
	if (responder_pid > 0) {
		kill(responder_pid, SIGTERM);
		waitpid(responder_pid, NULL, 0);
		unlink(responder_log);
		responder_pid = 0;
	}
}

static void
teardown(void)
{
	stop_responder();
	dns_resolver_free(res);
	if (world_ok)
		world_stop(&w);
}

TestSuite(smime_ocsp, .init = setup, .fini = teardown, .timeout = 30);

/* Whether the responder's log says it is listening. */
static int
responder_ready(void)
{
	char text[4096];
	int fd = open(responder_log, O_RDONLY);
	ssize_t n = fd >= 0 ? read(fd, text, sizeof(text) - 1) : -1;

	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return 0;
	text[n] = '\0';
	return strstr(text, "waiting for OCSP client connections") != NULL;
}

/* `openssl ocsp` on port 8888 signing with signer.crt/.key (in pki/smime). */
static void
start_responder(const char *signer)
{
	char *dir = smime_pki_path("index.txt"), *crt = xasprintf("%s.crt", signer),
	     *key = xasprintf("%s.key", signer);
	int fd = mkstemp(responder_log);
	int64_t end = clock_now_ms() + 10000;

	cr_assert_geq(fd, 0);
	*strrchr(dir, '/') = '\0';
	responder_pid = fork();
	cr_assert_geq(responder_pid, 0);
	if (responder_pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(fd, 1);
		dup2(fd, 2);
		if (chdir(dir) == 0)
			execlp("openssl", "openssl", "ocsp", "-index", "index.txt", "-port", "8888",
			    "-rsigner", crt, "-rkey", key, "-CA", "users.crt", "-nmin", "60",
			    (char *)NULL);
		_exit(127);
	}
	close(fd);
	while (!responder_ready() && clock_now_ms() < end)
		usleep(20000);
	cr_assert(responder_ready(), "openssl ocsp did not start");
	free(dir);
	free(crt);
	free(key);
}

/* The world's responder is on 127.0.0.1: allowed, except where a test says not. */
static int allow_internal = 1;

/* Check user NAME (issued by ISSUER); *ms: how long it took. */
static enum smime_ocsp
check(struct smime_ocsp_cache *c, const char *name, const char *issuer, unsigned timeout_ms,
    unsigned deadline_ms, int *from_cache, char **why, unsigned *ms)
{
	X509 *cert = smime_pki_cert(name), *ca = smime_pki_cert(issuer);
	int64_t t0 = clock_now_ms();
	enum smime_ocsp st = smime_ocsp_check(c, res, cert, ca, t0 + deadline_ms, timeout_ms,
	    allow_internal, from_cache, why);

	*ms = (unsigned)(clock_now_ms() - t0);
	cr_assert_not_null(*why);
	cr_log_info("%s: %s in %u ms%s: %s", name, smime_ocsp_name(st), *ms,
	    *from_cache ? " (cached)" : "", *why);
	X509_free(cert);
	X509_free(ca);
	return st;
}

Test(smime_ocsp, good_and_revoked)
{
	int fc;
	char *why;
	unsigned ms;

	start_responder("ocsp");
	cr_assert_eq(check(NULL, "alice", "users", 3000, 5000, &fc, &why, &ms), SMIME_OCSP_GOOD);
	cr_assert_eq(fc, 0);
	cr_assert_str_eq(why, "responder http://ocsp.smime.example:8888/: good");
	free(why);
	cr_assert_eq(check(NULL, "carol", "users", 3000, 5000, &fc, &why, &ms),
	    SMIME_OCSP_REVOKED);
	cr_assert_not_null(strstr(why, "revoked at 20"), "%s", why);
	cr_assert_not_null(strstr(why, "UTC, reason keyCompromise"), "%s", why);
	free(why);
}

Test(smime_ocsp, cached_after_responder_stops)
{
	struct smime_ocsp_cache *c = smime_ocsp_cache_new(0);
	int fc;
	char *why;
	unsigned ms;

	start_responder("ocsp");
	cr_assert_eq(check(c, "alice", "users", 3000, 5000, &fc, &why, &ms), SMIME_OCSP_GOOD);
	cr_assert_eq(fc, 0);
	free(why);
	stop_responder();
	cr_assert_eq(check(c, "alice", "users", 3000, 5000, &fc, &why, &ms), SMIME_OCSP_GOOD);
	cr_assert_eq(fc, 1);
	cr_assert_not_null(strstr(why, "(cached)"));
	free(why);
	/* bob was never asked: the responder is gone */
	cr_assert_eq(check(c, "bob", "users", 3000, 5000, &fc, &why, &ms), SMIME_OCSP_ERROR);
	cr_assert_eq(fc, 0);
	free(why);
	smime_ocsp_cache_free(c);
}

Test(smime_ocsp, responder_down)
{
	struct smime_ocsp_cache *c = smime_ocsp_cache_new(4);
	int fc;
	char *why;
	unsigned ms;

	cr_assert_eq(check(c, "alice", "users", 3000, 5000, &fc, &why, &ms), SMIME_OCSP_ERROR);
	cr_assert_lt(ms, 1000);
	cr_assert_not_null(strstr(why, "refused"), "%s", why);
	free(why);
	/* a dead responder costs one attempt a minute */
	cr_assert_eq(check(c, "alice", "users", 3000, 5000, &fc, &why, &ms), SMIME_OCSP_ERROR);
	cr_assert_eq(fc, 1);
	free(why);
	smime_ocsp_cache_free(c);
}

Test(smime_ocsp, no_responder)
{
	int fc;
	char *why;
	unsigned ms;

	cr_assert_eq(check(NULL, "frank", "users", 3000, 5000, &fc, &why, &ms),
	    SMIME_OCSP_NO_RESPONDER);
	free(why);
}

/* A socket on 127.0.0.1:8888 that listens and never accepts or answers. */
static int
silent_listener(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(PORT) };
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_geq(fd, 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0, "bind: %m");
	cr_assert_eq(listen(fd, 16), 0);
	return fd;
}

Test(smime_ocsp, responder_never_answers)
{
	struct smime_ocsp_cache *c = smime_ocsp_cache_new(0);
	int fd = silent_listener(), fc;
	char *why;
	unsigned ms;

	/* cut by the caller's deadline (300 ms of 5 s): an error, not cached */
	cr_assert_eq(check(c, "bob", "users", 5000, 300, &fc, &why, &ms), SMIME_OCSP_ERROR);
	cr_assert_lt(ms, 300 + 400);
	free(why);
	cr_assert_eq(check(c, "alice", "users", 500, 5000, &fc, &why, &ms), SMIME_OCSP_ERROR);
	cr_assert_eq(fc, 0);
	cr_assert_geq(ms, 400);
	cr_assert_lt(ms, 500 + 400);
	cr_assert_not_null(strstr(why, "imeout") != NULL ? why : strstr(why, "timed out"), "%s", why);
	free(why);
	/* the timeout was the request's own: cached */
	cr_assert_eq(check(c, "alice", "users", 500, 5000, &fc, &why, &ms), SMIME_OCSP_ERROR);
	cr_assert_eq(fc, 1);
	free(why);
	/* the deadline-cut failure of bob was not */
	cr_assert_eq(check(c, "bob", "users", 300, 5000, &fc, &why, &ms), SMIME_OCSP_ERROR);
	cr_assert_eq(fc, 0);
	free(why);
	close(fd);
	smime_ocsp_cache_free(c);
}

Test(smime_ocsp, unauthorised_signer)
{
	int fc;
	char *why;
	unsigned ms;

	start_responder("rogue");
	cr_assert_eq(check(NULL, "alice", "users", 3000, 5000, &fc, &why, &ms), SMIME_OCSP_ERROR);
	cr_assert_not_null(strstr(why, "signature does not verify"), "%s", why);
	free(why);
}

Test(smime_ocsp, names)
{
	cr_assert_str_eq(smime_ocsp_name(SMIME_OCSP_GOOD), "good");
	cr_assert_str_eq(smime_ocsp_name(SMIME_OCSP_REVOKED), "revoked");
	cr_assert_str_eq(smime_ocsp_name(SMIME_OCSP_UNKNOWN), "unknown");
	cr_assert_str_eq(smime_ocsp_name(SMIME_OCSP_NO_RESPONDER), "no-responder");
	cr_assert_str_eq(smime_ocsp_name(SMIME_OCSP_ERROR), "error");
}

/* A responder on an internal address is never asked unless allowed: a
 * signed message must not make danepold POST into the relay's network. */
Test(smime_ocsp, internal_responder_refused)
{
	int fc;
	char *why;
	unsigned ms;

	start_responder("ocsp");
	allow_internal = 0;
	cr_assert_eq(check(NULL, "alice", "users", 3000, 5000, &fc, &why, &ms), SMIME_OCSP_ERROR);
	cr_assert_not_null(strstr(why, "internal"), "%s", why);
	cr_assert_not_null(strstr(why, "127.0.0.1"), "%s", why);
	free(why);
	allow_internal = 1;
	cr_assert_eq(check(NULL, "alice", "users", 3000, 5000, &fc, &why, &ms), SMIME_OCSP_GOOD);
	free(why);
}
