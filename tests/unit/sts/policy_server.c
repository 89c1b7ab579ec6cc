/*
 * policy_server.c - see policy_server.h.
 */
#include "config.h"

#include <criterion/criterion.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "mem.h"
#include "policy_server.h"

/* the "READY <port>" line from fd within 10 s, into line */
static void
read_ready(int fd, char *line, size_t size)
{
	int64_t until = clock_now_ms() + 10000;
	size_t n = 0;

	line[0] = 0;
	while (n < size - 1 && strchr(line, '\n') == NULL && clock_now_ms() < until) {
		struct pollfd p = { fd, POLLIN, 0 };
		ssize_t got;

		if (poll(&p, 1, 200) <= 0)
			continue;
		if ((got = read(fd, line + n, size - 1 - n)) <= 0)
			break;
		n += (size_t)got;
		line[n] = 0;
	}
}

void
policy_server_start(struct policy_server *s)
{
	const char *w = getenv("WORLD_DIR"), *top = getenv("TOP_SRCDIR");
	char *pki, *script, line[64];
	int fds[2];

	memset(s, 0, sizeof(*s));
	if (w == NULL || top == NULL)
		cr_skip_test("WORLD_DIR or TOP_SRCDIR unset (run through make check)");
	pki = xasprintf("%s/pki", w);
	script = xasprintf("%s/tests/unit/sts/policy_server.py", top);
	s->ca = xasprintf("%s/ca.crt", pki);
	s->other_ca = xasprintf("%s/ss.crt", pki);
	if (access(script, R_OK) != 0 || access(s->ca, R_OK) != 0)
		cr_skip_test("no %s or %s", script, s->ca);
	cr_assert_eq(pipe(fds), 0);
	s->pid = fork();
	cr_assert_neq(s->pid, -1);
	if (s->pid == 0) {
		dup2(fds[1], 1);
		close(fds[0]);
		execlp("python3", "python3", script, "127.0.0.1", "0", pki, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	read_ready(fds[0], line, sizeof(line));
	close(fds[0]);
	free(pki);
	free(script);
	cr_assert(sscanf(line, "READY %u", &s->port) == 1, "policy_server.py did not start: '%s'",
	    line);
}

void
policy_server_stop(struct policy_server *s)
{
	if (s->pid > 0) {
		kill(s->pid, SIGTERM);
		waitpid(s->pid, NULL, 0);
	}
	free(s->ca);
	free(s->other_ca);
	memset(s, 0, sizeof(*s));
}
