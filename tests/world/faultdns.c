/*
 * faultdns.c - a tiny misbehaving DNS server for the offline test world.
 *
 * Usage: faultdns [-a ADDR] [-p PORT] [-s SLOW_MS] ZONE=MODE...
 *   -a ADDR    IPv4 address to listen on; must be in 127.0.0.0/8
 *              (default 127.0.0.1): this program never listens off-host
 *   -p PORT    UDP and TCP port (default 0: pick a free port)
 *   -s SLOW_MS delay of the "slow" mode (default 1000)
 * Once listening on both UDP and TCP it prints "PORT n\n" on stdout and
 * flushes. It runs until SIGTERM or SIGINT (exit 0), or until its parent
 * dies (Linux PR_SET_PDEATHSIG); stdin is not read.
 *
 * Per zone (the longest configured suffix of the query name), MODE is:
 *   blackhole  read the query, never answer
 *   servfail   SERVFAIL          refused  REFUSED        formerr  FORMERR
 *   answer     authoritative data at once (AA set):
 *                apex: SOA, NS ns.ZONE, MX 10 mx1.ZONE, A 127.0.0.1;
 *                mx1.ZONE and ns.ZONE: A 127.0.0.1;
 *                other types at those names: NODATA (SOA in authority);
 *                any other name in the zone: NXDOMAIN (SOA in authority)
 *   slow       the same data, sent SLOW_MS later (timer queue, no sleeps)
 *   truncate   UDP: empty answer with TC set; TCP: the data
 * Names under no configured zone get REFUSED.
 *
 * Hostile input: queries are parsed with bounds checks only; responses
 * (QR set) and runts are dropped; qdcount != 1, compressed or oversized
 * question names and truncated questions get FORMERR; other opcodes
 * NOTIMP. Memory is bounded: at most MAX_CONNS TCP connections (idle ones
 * closed after TCP_IDLE_MS), MAX_PENDING delayed answers (more are
 * dropped), fixed-size buffers.
 *
 * Standalone test tool: it links only libc (not lib/), so it allocates
 * with calloc() and reports with fprintf(stderr). Single-threaded poll()
 * loop; signals arrive through a self-pipe.
 *
 * This file: options, zones, sockets, the poll loop and the timer queue.
 * DNS wire format (name handling, query parsing, response building) is in
 * faultdns_msg.c (API and contracts in faultdns_msg.h).
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "faultdns_msg.h"

#define MAX_ZONES	64
#define MAX_CONNS	64
#define MAX_PENDING	1024
#define MAX_QUERY	4096		/* largest query we read */
#define TCP_OUT		8192
#define TCP_IDLE_MS	10000

enum mode { M_BLACKHOLE, M_SERVFAIL, M_REFUSED, M_FORMERR, M_ANSWER, M_SLOW, M_TRUNCATE };

static const char *const mode_names[] = {
	"blackhole", "servfail", "refused", "formerr", "answer", "slow", "truncate",
};

struct zone {
	uint8_t wire[FDMSG_MAX_NAME];	/* lower-case wire form */
	size_t wlen;
	enum mode mode;
};

struct conn {
	int fd;			/* -1: free slot */
	unsigned gen;		/* bumped on close, so stale delayed answers are dropped */
	int64_t last;
	size_t inlen, outlen;
	uint8_t in[2 + MAX_QUERY];
	uint8_t out[TCP_OUT];
};

struct pending {
	int used, tcp, conn;
	unsigned gen;
	int64_t due;
	struct sockaddr_in to;
	size_t len;
	uint8_t msg[FDMSG_MAX_MSG];
};

struct server {
	int udp, tcp, sig[2];
	unsigned slow_ms;
	struct zone zones[MAX_ZONES];
	size_t nzones;
	struct conn *conns;	/* MAX_CONNS */
	struct pending *pend;	/* MAX_PENDING */
};

static int sig_fd = -1;		/* write end of the self-pipe, for the handler */

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
on_signal(int signo)
{
	int saved = errno;
	char c = (char)signo;

	if (sig_fd >= 0 && write(sig_fd, &c, 1) < 0) {
		/* nothing to do: the pipe is full, a wake-up is pending anyway */
	}
	errno = saved;
}

/* ------------------------------------------------------------ zones */

static const struct zone *
find_zone(const struct server *s, const struct fdmsg_query *q, long *prefix)
{
	const struct zone *best = NULL;

	for (size_t i = 0; i < s->nzones; i++) {
		long p = fdmsg_name_suffix(q->name, q->namelen, s->zones[i].wire, s->zones[i].wlen);

		if (p >= 0 && (best == NULL || s->zones[i].wlen > best->wlen)) {
			best = &s->zones[i];
			*prefix = p;
		}
	}
	return best;
}

/* ------------------------------------------------------------ sending */

static void conn_close(struct server *s, int ci);

static void
tcp_queue(struct server *s, int ci, const uint8_t *data, size_t len)
{
	struct conn *c = &s->conns[ci];

	if (c->fd < 0)
		return;
	if (len + 2 > sizeof(c->out) - c->outlen) {
		conn_close(s, ci);	/* the client does not read: drop it */
		return;
	}
	c->out[c->outlen++] = (uint8_t)(len >> 8);
	c->out[c->outlen++] = (uint8_t)len;
	memcpy(c->out + c->outlen, data, len);
	c->outlen += len;
}

static void
send_now(struct server *s, const struct fdmsg *m, int tcp, int ci, const struct sockaddr_in *to)
{
	if (m->overflow)
		return;
	if (tcp)
		tcp_queue(s, ci, m->b, m->len);
	else if (sendto(s->udp, m->b, m->len, 0, (const struct sockaddr *)to, sizeof(*to)) < 0) {
		/* UDP: a lost answer is just a lost answer */
	}
}

static void
schedule(struct server *s, const struct fdmsg *m, int tcp, int ci, const struct sockaddr_in *to)
{
	for (size_t i = 0; i < MAX_PENDING; i++) {
		struct pending *p = &s->pend[i];

		if (p->used)
			continue;
		p->used = 1;
		p->tcp = tcp;
		p->conn = ci;
		p->gen = tcp ? s->conns[ci].gen : 0;
		p->due = now_ms() + s->slow_ms;
		if (to)
			p->to = *to;
		p->len = m->len;
		memcpy(p->msg, m->b, m->len);
		return;
	}
	/* queue full: dropped, like a server under load */
}

static void
handle(struct server *s, const uint8_t *p, size_t n, int tcp, int ci, const struct sockaddr_in *from)
{
	struct fdmsg_query q;
	struct fdmsg m;
	const struct zone *z;
	long prefix = 0;
	int rc = fdmsg_parse_query(p, n, &q);

	if (rc < 0)
		return;
	if (rc > 0) {
		q.question = NULL;
		fdmsg_start(&m, &q, rc, 0, 0, 0, 0);
		send_now(s, &m, tcp, ci, from);
		return;
	}
	if ((z = find_zone(s, &q, &prefix)) == NULL) {
		fdmsg_start(&m, &q, 5, 0, 0, 0, 0);
		fdmsg_edns(&m, &q);
		send_now(s, &m, tcp, ci, from);
		return;
	}
	switch (z->mode) {
	case M_BLACKHOLE:
		return;
	case M_SERVFAIL:
	case M_REFUSED:
	case M_FORMERR:
		fdmsg_start(&m, &q, z->mode == M_SERVFAIL ? 2 : z->mode == M_REFUSED ? 5 : 1, 0, 0, 0, 0);
		fdmsg_edns(&m, &q);
		break;
	case M_ANSWER:
	case M_SLOW:
	case M_TRUNCATE:
		fdmsg_build_answer(&m, &q, z->wire, z->wlen, prefix, z->mode == M_TRUNCATE && !tcp);
		break;
	}
	if (z->mode == M_SLOW && !m.overflow)
		schedule(s, &m, tcp, ci, from);
	else
		send_now(s, &m, tcp, ci, from);
}

/* ------------------------------------------------------------ sockets */

static int
nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static void
conn_close(struct server *s, int ci)
{
	struct conn *c = &s->conns[ci];

	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->gen++;
	c->inlen = c->outlen = 0;
}

static void
tcp_accept(struct server *s)
{
	int fd = accept(s->tcp, NULL, NULL);

	if (fd < 0)
		return;
	for (int i = 0; i < MAX_CONNS; i++) {
		if (s->conns[i].fd >= 0)
			continue;
		if (nonblock(fd) < 0)
			break;
		s->conns[i].fd = fd;
		s->conns[i].last = now_ms();
		s->conns[i].inlen = s->conns[i].outlen = 0;
		return;
	}
	close(fd);		/* too many connections */
}

static void
tcp_read(struct server *s, int ci)
{
	struct conn *c = &s->conns[ci];
	ssize_t r = read(c->fd, c->in + c->inlen, sizeof(c->in) - c->inlen);

	if (r <= 0) {
		if (r == 0 || (errno != EAGAIN && errno != EINTR))
			conn_close(s, ci);
		return;
	}
	c->last = now_ms();
	c->inlen += (size_t)r;
	while (c->fd >= 0 && c->inlen >= 2) {
		size_t len = fdmsg_get16(c->in);

		if (len > MAX_QUERY) {
			conn_close(s, ci);
			return;
		}
		if (c->inlen < 2 + len)
			break;
		handle(s, c->in + 2, len, 1, ci, NULL);
		if (c->fd < 0)
			return;
		memmove(c->in, c->in + 2 + len, c->inlen - 2 - len);
		c->inlen -= 2 + len;
	}
}

static void
tcp_write(struct server *s, int ci)
{
	struct conn *c = &s->conns[ci];
	ssize_t r = send(c->fd, c->out, c->outlen, MSG_NOSIGNAL);

	if (r < 0) {
		if (errno != EAGAIN && errno != EINTR)
			conn_close(s, ci);
		return;
	}
	memmove(c->out, c->out + r, c->outlen - (size_t)r);
	c->outlen -= (size_t)r;
	c->last = now_ms();
}

static void
udp_read(struct server *s)
{
	uint8_t buf[MAX_QUERY];
	struct sockaddr_in from;

	for (int i = 0; i < 64; i++) {
		socklen_t fl = sizeof(from);
		ssize_t r = recvfrom(s->udp, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);

		if (r < 0)
			return;
		if (fl != sizeof(from) || from.sin_family != AF_INET)
			continue;
		handle(s, buf, (size_t)r, 0, -1, &from);
	}
}

/* Send delayed answers that are due; return ms until the next one (-1: none). */
static int
timers_run(struct server *s)
{
	int64_t now = now_ms(), next = -1;

	for (size_t i = 0; i < MAX_PENDING; i++) {
		struct pending *p = &s->pend[i];

		if (!p->used)
			continue;
		if (p->due <= now) {
			p->used = 0;
			if (!p->tcp) {
				if (sendto(s->udp, p->msg, p->len, 0, (struct sockaddr *)&p->to,
				    sizeof(p->to)) < 0) {
					/* lost */
				}
			} else if (s->conns[p->conn].gen == p->gen)
				tcp_queue(s, p->conn, p->msg, p->len);
		} else if (next < 0 || p->due - now < next)
			next = p->due - now;
	}
	return (int)next;
}

/* Bind UDP and TCP on addr:port (port 0: a port free for both). */
static int
listen_both(struct server *s, const struct in_addr *addr, unsigned port)
{
	for (int attempt = 0; attempt < 50; attempt++) {
		struct sockaddr_in sa;
		socklen_t sl = sizeof(sa);
		int one = 1;

		memset(&sa, 0, sizeof(sa));
		sa.sin_family = AF_INET;
		sa.sin_addr = *addr;
		sa.sin_port = htons((uint16_t)port);
		s->udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		s->tcp = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (s->udp < 0 || s->tcp < 0)
			return -1;
		setsockopt(s->tcp, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(s->udp, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
		    getsockname(s->udp, (struct sockaddr *)&sa, &sl) == 0 &&
		    bind(s->tcp, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
		    listen(s->tcp, 64) == 0 && nonblock(s->udp) == 0 && nonblock(s->tcp) == 0)
			return ntohs(sa.sin_port);
		close(s->udp);
		close(s->tcp);
		s->udp = s->tcp = -1;
		if (port != 0)
			break;		/* a fixed port: no retry */
	}
	return -1;
}

/* ------------------------------------------------------------ main */

static void
usage(void)
{
	fprintf(stderr, "usage: faultdns [-a 127.x.y.z] [-p PORT] [-s SLOW_MS] ZONE=MODE...\n"
	    "modes: blackhole servfail refused formerr answer slow truncate\n");
	exit(64);
}

static void
add_zone(struct server *s, const char *arg)
{
	char name[300];
	const char *eq = strchr(arg, '=');
	struct zone *z;
	size_t i;

	if (eq == NULL || (size_t)(eq - arg) >= sizeof(name) || s->nzones >= MAX_ZONES)
		usage();
	memcpy(name, arg, (size_t)(eq - arg));
	name[eq - arg] = 0;
	z = &s->zones[s->nzones];
	if ((z->wlen = fdmsg_name_to_wire(name, z->wire)) == 0) {
		fprintf(stderr, "faultdns: bad zone name '%s'\n", name);
		exit(64);
	}
	for (i = 0; i < sizeof(mode_names) / sizeof(mode_names[0]); i++)
		if (strcmp(eq + 1, mode_names[i]) == 0)
			break;
	if (i == sizeof(mode_names) / sizeof(mode_names[0])) {
		fprintf(stderr, "faultdns: unknown mode '%s'\n", eq + 1);
		exit(64);
	}
	z->mode = (enum mode)i;
	s->nzones++;
}

static unsigned
number(const char *arg, unsigned max)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(arg, &end, 10);
	if (errno || end == arg || *end || v > max || arg[0] == '-')
		usage();
	return (unsigned)v;
}

static void
serve(struct server *s)
{
	struct pollfd pfd[3 + MAX_CONNS];
	int map[3 + MAX_CONNS];

	for (;;) {
		int timeout = timers_run(s), n = 3;
		int64_t now = now_ms();

		pfd[0] = (struct pollfd){ .fd = s->sig[0], .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = s->udp, .events = POLLIN };
		pfd[2] = (struct pollfd){ .fd = s->tcp, .events = POLLIN };
		for (int i = 0; i < MAX_CONNS; i++) {
			struct conn *c = &s->conns[i];

			if (c->fd < 0)
				continue;
			if (now - c->last > TCP_IDLE_MS) {
				conn_close(s, i);
				continue;
			}
			pfd[n] = (struct pollfd){ .fd = c->fd,
			    .events = (short)(POLLIN | (c->outlen ? POLLOUT : 0)) };
			map[n++] = i;
			if (timeout < 0 || timeout > TCP_IDLE_MS)
				timeout = TCP_IDLE_MS;
		}
		if (poll(pfd, (nfds_t)n, timeout) < 0) {
			if (errno == EINTR)
				continue;
			perror("faultdns: poll");
			return;
		}
		if (pfd[0].revents)
			return;
		if (pfd[1].revents)
			udp_read(s);
		if (pfd[2].revents)
			tcp_accept(s);
		for (int k = 3; k < n; k++) {
			int ci = map[k];

			if (s->conns[ci].fd != pfd[k].fd)
				continue;
			if (pfd[k].revents & (POLLIN | POLLHUP | POLLERR))
				tcp_read(s, ci);
			if (s->conns[ci].fd >= 0 && s->conns[ci].outlen)
				tcp_write(s, ci);
		}
	}
}

/* Options and zones into s, addr and port; exits 64 on a usage error. */
static void
parse_args(int argc, char **argv, struct server *s, struct in_addr *addr, unsigned *port)
{
	int opt;

	inet_pton(AF_INET, "127.0.0.1", addr);
	while ((opt = getopt(argc, argv, "a:p:s:")) != -1) {
		switch (opt) {
		case 'a':
			if (inet_pton(AF_INET, optarg, addr) != 1 || (ntohl(addr->s_addr) >> 24) != 127) {
				fprintf(stderr, "faultdns: %s: only 127.0.0.0/8 addresses\n", optarg);
				exit(64);
			}
			break;
		case 'p':
			*port = number(optarg, 65535);
			break;
		case 's':
			s->slow_ms = number(optarg, 600000);
			break;
		default:
			usage();
		}
	}
	if (optind >= argc)
		usage();
	for (int i = optind; i < argc; i++)
		add_zone(s, argv[i]);
}

/* Buffers, the signal self-pipe and handlers. Returns 0 or -1. */
static int
setup(struct server *s)
{
	struct sigaction sa;

	s->conns = calloc(MAX_CONNS, sizeof(*s->conns));
	s->pend = calloc(MAX_PENDING, sizeof(*s->pend));
	if (s->conns == NULL || s->pend == NULL || pipe2(s->sig, O_CLOEXEC | O_NONBLOCK) < 0)
		return -1;
	for (int i = 0; i < MAX_CONNS; i++)
		s->conns[i].fd = -1;
	sig_fd = s->sig[1];
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

int
main(int argc, char **argv)
{
	struct server s;
	struct in_addr addr;
	unsigned port = 0;
	int bound, rc = 1;
	pid_t parent = getppid();

	/* Die with the parent (a test killed by its runner leaves no orphan). */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != parent)
		return 1;
	memset(&s, 0, sizeof(s));
	s.slow_ms = 1000;
	s.udp = s.tcp = s.sig[0] = s.sig[1] = -1;
	parse_args(argc, argv, &s, &addr, &port);
	if (setup(&s) < 0) {
		perror("faultdns");
		goto out;
	}
	if ((bound = listen_both(&s, &addr, port)) < 0) {
		perror("faultdns: bind");
		goto out;
	}
	printf("PORT %d\n", bound);
	fflush(stdout);
	serve(&s);
	rc = 0;
out:
	for (int i = 0; s.conns && i < MAX_CONNS; i++)
		if (s.conns[i].fd >= 0)
			close(s.conns[i].fd);
	for (int i = 0; i < 2; i++)
		if (s.sig[i] >= 0)
			close(s.sig[i]);
	if (s.udp >= 0)
		close(s.udp);
	if (s.tcp >= 0)
		close(s.tcp);
	free(s.conns);
	free(s.pend);
	return rc;
}
