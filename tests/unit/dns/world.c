/*
 * world.c - start/stop the offline test world for unit tests (contract in
 * world.h): the fault responder as a child process (posix_spawn, its
 * stdout on a pipe for the "PORT n" line) and a per-process libunbound
 * config file (world.conf + stub-zones). No system(), no shell.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "clock.h"
#include "dns.h"
#include "log.h"
#include "mem.h"
#include "world.h"

extern char **environ;

#define WORLD_START_MS 10000	/* how long the responder may take to print its port */
#define WORLD_MAX_ZONES 64

char *
world_path(const struct world *w, const char *rel)
{
	return xasprintf("%s/%s", w->dir, rel);
}

/* Whole file as a string (caller frees), or NULL. */
static char *
slurp(const char *path)
{
	FILE *fp = fopen(path, "r");
	struct buf b;
	char chunk[4096];
	size_t n;

	if (fp == NULL)
		return NULL;
	buf_init(&b);
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		buf_append(&b, chunk, n);
	fclose(fp);
	return buf_steal(&b);
}

/* Parse fault-zones into argv entries "zone=mode" (caller frees each). */
static size_t
read_fault_zones(const char *text, char **out, size_t max)
{
	size_t n = 0;
	const char *p = text;

	while (*p && n < max) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		char *line = xstrndup(p, len), zone[256], mode[32], junk[2];

		if (line[0] != '#' && sscanf(line, "%255s %31s %1s", zone, mode, junk) == 2)
			out[n++] = xasprintf("%s=%s", zone, mode);
		free(line);
		p += len + (eol ? 1 : 0);
	}
	return n;
}

/* Read "PORT n\n" from fd within WORLD_START_MS. Returns the port or 0. */
static unsigned
read_port(int fd)
{
	char line[64];
	size_t len = 0;
	int64_t deadline = clock_now_ms() + WORLD_START_MS;
	unsigned port = 0;

	while (len < sizeof(line) - 1 && memchr(line, '\n', len) == NULL) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int64_t left = deadline - clock_now_ms();
		ssize_t r;

		if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
			return 0;
		if ((r = read(fd, line + len, sizeof(line) - 1 - len)) <= 0)
			return 0;
		len += (size_t)r;
	}
	line[len] = 0;
	if (sscanf(line, "PORT %u", &port) != 1 || port == 0 || port > 65535)
		return 0;
	return port;
}

/* Spawn FAULTDNS for the zones; sets w->pid and w->port. */
static int
spawn_responder(struct world *w, const char *faultdns, char **zones, size_t nzones)
{
	char **argv = xcalloc(nzones + 6, sizeof(*argv));
	char slow[16];
	posix_spawn_file_actions_t fa;
	int pfd[2] = { -1, -1 }, rc = -1;

	snprintf(slow, sizeof(slow), "%u", w->slow_ms);
	argv[0] = (char *)faultdns;
	argv[1] = (char *)"-p";
	argv[2] = (char *)"0";
	argv[3] = (char *)"-s";
	argv[4] = slow;
	for (size_t i = 0; i < nzones; i++)
		argv[5 + i] = zones[i];
	if (pipe2(pfd, O_CLOEXEC) < 0)
		goto out;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pfd[1], STDOUT_FILENO);
	if (posix_spawn(&w->pid, faultdns, &fa, NULL, argv, environ) != 0)
		w->pid = 0;
	posix_spawn_file_actions_destroy(&fa);
	close(pfd[1]);
	if (w->pid == 0)
		goto out;
	if ((w->port = read_port(pfd[0])) == 0) {
		msg_warn("world: %s did not report its port", faultdns);
		goto out;
	}
	rc = 0;
out:
	if (pfd[0] >= 0)
		close(pfd[0]);
	free(argv);
	return rc;
}

/* world.conf + stub-zones into a fresh temp file; sets w->unbound_conf. */
static int
write_unbound_conf(struct world *w, const char *base, char **zones, size_t nzones)
{
	const char *tmp = getenv("TMPDIR");
	char *path = xasprintf("%s/danepol-world.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	struct buf b;
	FILE *fp;
	int fd, ok, rc = -1;

	buf_init(&b);
	buf_puts(&b, base);
	buf_puts(&b, "\n# fault zones: tests/world/faultdns\n");
	for (size_t i = 0; i < nzones; i++) {
		const char *eq = strchr(zones[i], '=');

		buf_printf(&b, "stub-zone:\n\tname: \"%.*s.\"\n\tstub-addr: 127.0.0.1@%u\n",
		    (int)(eq - zones[i]), zones[i], w->port);
	}
	if ((fd = mkstemp(path)) < 0 || (fp = fdopen(fd, "w")) == NULL) {
		if (fd >= 0)
			close(fd);
		goto out;
	}
	ok = fwrite(b.s, 1, b.len, fp) == b.len;
	if (fclose(fp) == 0 && ok) {
		w->unbound_conf = path;
		path = NULL;
		rc = 0;
	}
out:
	if (path) {
		unlink(path);
		free(path);
	}
	buf_free(&b);
	return rc;
}

int
world_start(struct world *w, unsigned slow_ms)
{
	const char *dir = getenv("WORLD_DIR"), *faultdns = getenv("FAULTDNS");
	char *zones[WORLD_MAX_ZONES], *base = NULL, *fz = NULL, *path;
	size_t nzones = 0;
	int rc = -1;

	memset(w, 0, sizeof(*w));
	if (dir == NULL || *dir == 0 || faultdns == NULL || access(faultdns, X_OK) != 0)
		return -1;
	w->dir = xstrdup(dir);
	w->slow_ms = slow_ms;
	path = world_path(w, "root.ds");
	w->trust_anchor = slurp(path);
	free(path);
	path = world_path(w, "world.conf");
	base = slurp(path);
	free(path);
	path = world_path(w, "fault-zones");
	fz = slurp(path);
	free(path);
	if (w->trust_anchor == NULL || base == NULL || fz == NULL)
		goto out;
	w->trust_anchor[strcspn(w->trust_anchor, "\r\n")] = 0;
	nzones = read_fault_zones(fz, zones, WORLD_MAX_ZONES);
	if (spawn_responder(w, faultdns, zones, nzones) < 0 ||
	    write_unbound_conf(w, base, zones, nzones) < 0)
		goto out;
	rc = 0;
out:
	for (size_t i = 0; i < nzones; i++)
		free(zones[i]);
	free(base);
	free(fz);
	if (rc < 0)
		world_stop(w);
	return rc;
}

void
world_stop(struct world *w)
{
	if (w->pid > 0) {
		int st;

		kill(w->pid, SIGTERM);
		while (waitpid(w->pid, &st, 0) < 0 && errno == EINTR)
			;
	}
	if (w->unbound_conf)
		unlink(w->unbound_conf);
	free(w->unbound_conf);
	free(w->trust_anchor);
	free(w->dir);
	memset(w, 0, sizeof(*w));
}

char *
world_conf_text(const struct world *w, const char *extra)
{
	return xasprintf("trust_anchor = %s\nresolver_config = %s\n%s\n",
	    w->trust_anchor, w->unbound_conf, extra ? extra : "");
}

void
world_dns_options(const struct world *w, struct dns_options *o)
{
	memset(o, 0, sizeof(*o));
	o->trust_anchor = w->trust_anchor;
	o->unbound_config = w->unbound_conf;
}
