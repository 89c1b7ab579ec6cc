/*
 * smclient.c - socketmap load client (bench only): C connections over a
 * unix socket, each in its own thread, each sending Postfix socketmap
 * requests ("tlspolicy DOMAIN" netstrings) and reading the replies, with
 * up to P requests outstanding per connection (P = 1: request/response,
 * as Postfix does; P > 1: pipelined).
 *
 * Usage: smclient -s SOCKET [-c CONNS] [-p DEPTH] [-t SECONDS] [-n DOMAINS] [-x SUFFIX] [-d DOMAIN]
 *   Domains are "d<k>SUFFIX" for k = 0..DOMAINS-1 (default suffix
 *   ".w.bench", bench/mkbenchworld.sh's wildcard), cycled; -d asks for
 *   DOMAIN alone (bench/sts.sh: one warm MTA-STS policy). Before timing, every domain is asked once
 *   (warm cache). Prints "conns C depth P seconds T queries Q qps X
 *   not_ok N" (replies not starting with "OK ").
 * libc only; exits 1 on connection errors.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

struct worker {
	int id;
	long queries, not_ok;
	int err;
};

static const char *sock_path, *suffix = ".w.bench", *fixed;
static int depth = 1, ndomains = 1000, nconns = 8;
static double seconds = 5;
static volatile int stop;

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
sm_connect(void)
{
	struct sockaddr_un a;
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	memset(&a, 0, sizeof(a));
	a.sun_family = AF_UNIX;
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", sock_path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		perror("smclient: connect");
		return -1;
	}
	return fd;
}

/* Append the netstring request for domain k to buf; returns its length. */
static size_t
sm_request(char *buf, int k)
{
	char key[300];
	int n;

	if (fixed != NULL)
		snprintf(key, sizeof(key), "tlspolicy %.250s", fixed);
	else
		snprintf(key, sizeof(key), "tlspolicy d%d%.200s", k, suffix);
	n = snprintf(buf, 320, "%zu:%s,", strlen(key), key);
	return (size_t)n;
}

/* Read replies until `want` complete netstrings were consumed. */
struct rbuf {
	char b[65536];
	size_t len;
};

static int
sm_replies(int fd, struct rbuf *r, int want, long *not_ok)
{
	while (want > 0) {
		char *colon = memchr(r->b, ':', r->len);

		if (colon) {
			size_t n = strtoul(r->b, NULL, 10), hdr = (size_t)(colon - r->b) + 1;

			if (r->len >= hdr + n + 1) {
				if (n < 3 || memcmp(colon + 1, "OK ", 3) != 0)
					(*not_ok)++;
				memmove(r->b, r->b + hdr + n + 1, r->len - hdr - n - 1);
				r->len -= hdr + n + 1;
				want--;
				continue;
			}
		}
		ssize_t got = read(fd, r->b + r->len, sizeof(r->b) - r->len);

		if (got <= 0)
			return -1;
		r->len += (size_t)got;
	}
	return 0;
}

static void *
worker_run(void *arg)
{
	struct worker *w = arg;
	struct rbuf *r = calloc(1, sizeof(*r));
	char out[320 * 64];
	int fd = sm_connect(), k = w->id * 7919 % ndomains;

	if (fd < 0 || r == NULL) {
		w->err = 1;
		free(r);
		return NULL;
	}
	while (!stop) {
		size_t len = 0;

		for (int i = 0; i < depth; i++) {
			len += sm_request(out + len, k);
			k = (k + 1) % ndomains;
		}
		if (write(fd, out, len) != (ssize_t)len || sm_replies(fd, r, depth, &w->not_ok) < 0) {
			w->err = 1;
			break;
		}
		w->queries += depth;
	}
	close(fd);
	free(r);
	return NULL;
}

static int
warm(void)
{
	struct rbuf *r = calloc(1, sizeof(*r));
	long bad = 0;
	int fd = sm_connect();
	char out[320];

	if (fd < 0 || r == NULL)
		return -1;
	for (int k = 0; k < ndomains; k++) {
		size_t len = sm_request(out, k);

		if (write(fd, out, len) != (ssize_t)len || sm_replies(fd, r, 1, &bad) < 0)
			return -1;
	}
	close(fd);
	free(r);
	return 0;
}

int
main(int argc, char **argv)
{
	struct worker *w;
	pthread_t *t;
	long q = 0, bad = 0;
	double t0, el;
	int c, err = 0;

	while ((c = getopt(argc, argv, "s:c:p:t:n:x:d:")) != -1) {
		switch (c) {
		case 's': sock_path = optarg; break;
		case 'c': nconns = atoi(optarg); break;
		case 'p': depth = atoi(optarg); break;
		case 't': seconds = atof(optarg); break;
		case 'n': ndomains = atoi(optarg); break;
		case 'x': suffix = optarg; break;
		case 'd': fixed = optarg; ndomains = 1; break;
		default: fprintf(stderr, "usage: smclient -s SOCKET [-c N] [-p DEPTH] [-t S] [-n N] [-x SUFFIX] [-d DOMAIN]\n"); return 64;
		}
	}
	if (sock_path == NULL || nconns < 1 || depth < 1 || depth > 64 || ndomains < 1)
		return 64;
	if (warm() < 0)
		return 1;
	w = calloc((size_t)nconns, sizeof(*w));
	t = calloc((size_t)nconns, sizeof(*t));
	t0 = now_s();
	for (int i = 0; i < nconns; i++) {
		w[i].id = i;
		pthread_create(&t[i], NULL, worker_run, &w[i]);
	}
	while (now_s() - t0 < seconds)
		usleep(20000);	/* the measuring period itself, not synchronisation */
	stop = 1;
	for (int i = 0; i < nconns; i++) {
		pthread_join(t[i], NULL);
		q += w[i].queries;
		bad += w[i].not_ok;
		err |= w[i].err;
	}
	el = now_s() - t0;
	printf("conns %d depth %d seconds %.2f queries %ld qps %.0f not_ok %ld\n", nconns, depth, el,
	    q, (double)q / el, bad);
	free(w);
	free(t);
	return err ? 1 : 0;
}
