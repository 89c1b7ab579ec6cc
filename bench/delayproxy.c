/*
 * delayproxy.c - a loopback UDP DNS proxy that delays every query by a
 * fixed time: the "slow responder" of the cold-latency benchmark (this
 * machine has no sch_netem, so `tc qdisc ... netem delay` is not there).
 *
 * Usage: delayproxy -u UPSTREAM_PORT -d DELAY_MS [-p PORT]
 *   Listens on 127.0.0.1:PORT (0 = pick one; prints "PORT n" on stdout),
 *   holds each query DELAY_MS, then forwards it to 127.0.0.1:UPSTREAM_PORT
 *   (the unbound daemon serving the signed bench zones) with a fresh
 *   16-bit ID; the answer goes straight back to the asker with its own ID.
 *   So every lookup costs one RTT of DELAY_MS plus the loopback time.
 * The delay queue is a FIFO (a fixed delay keeps arrival order = release
 * order); single-threaded poll() loop; runs until killed or its parent
 * dies. Bench tool: libc only, not part of danepol.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define QMAX	16384		/* queries held at once (more are dropped) */
#define PKTMAX	1232		/* largest query kept */

struct held {
	int64_t release_us;
	struct sockaddr_in from;
	uint16_t len;
	unsigned char pkt[PKTMAX];
};

struct idmap {
	struct sockaddr_in from;
	uint16_t orig;
	int used;
};

static struct held q[QMAX];
static struct idmap map[65536];

static int64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int
udp_bind(unsigned port)
{
	struct sockaddr_in a;
	int fd = socket(AF_INET, SOCK_DGRAM, 0), sz = 4 << 20;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons((uint16_t)port);
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		perror("delayproxy: bind");
		exit(1);
	}
	return fd;
}

int
main(int argc, char **argv)
{
	unsigned port = 0, up = 0, delay_ms = 0, head = 0, tail = 0, n = 0, nextid = 1;
	struct sockaddr_in upa, me;
	socklen_t ml = sizeof(me);
	int c, cfd, ufd;

	while ((c = getopt(argc, argv, "p:u:d:")) != -1) {
		if (c == 'p') port = (unsigned)atoi(optarg);
		else if (c == 'u') up = (unsigned)atoi(optarg);
		else if (c == 'd') delay_ms = (unsigned)atoi(optarg);
		else { fprintf(stderr, "usage: delayproxy -u PORT -d MS [-p PORT]\n"); return 64; }
	}
	if (up == 0) { fprintf(stderr, "delayproxy: -u required\n"); return 64; }
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	cfd = udp_bind(port);
	ufd = udp_bind(0);
	memset(&upa, 0, sizeof(upa));
	upa.sin_family = AF_INET;
	upa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	upa.sin_port = htons((uint16_t)up);
	getsockname(cfd, (struct sockaddr *)&me, &ml);
	printf("PORT %u\n", ntohs(me.sin_port));
	fflush(stdout);
	for (;;) {
		struct pollfd p[2] = { { cfd, POLLIN, 0 }, { ufd, POLLIN, 0 } };
		int tmo = -1;
		int64_t t = now_us();

		while (n > 0 && q[head].release_us <= t) {	/* release due queries */
			struct held *h = &q[head];
			uint16_t id = (uint16_t)nextid++;

			if (id == 0) id = (uint16_t)nextid++;
			map[id].from = h->from;
			memcpy(&map[id].orig, h->pkt, 2);
			map[id].used = 1;
			memcpy(h->pkt, &id, 2);
			sendto(ufd, h->pkt, h->len, 0, (struct sockaddr *)&upa, sizeof(upa));
			head = (head + 1) % QMAX;
			n--;
		}
		if (n > 0)
			tmo = (int)((q[head].release_us - t + 999) / 1000);
		if (poll(p, 2, tmo) < 0)
			continue;
		if (p[0].revents & POLLIN) {
			struct held *h = &q[tail];
			socklen_t fl = sizeof(h->from);
			ssize_t r = recvfrom(cfd, h->pkt, PKTMAX, 0, (struct sockaddr *)&h->from, &fl);

			if (r >= 12 && n < QMAX) {
				h->len = (uint16_t)r;
				h->release_us = now_us() + (int64_t)delay_ms * 1000;
				tail = (tail + 1) % QMAX;
				n++;
			}
		}
		if (p[1].revents & POLLIN) {
			unsigned char buf[65536];
			ssize_t r = recv(ufd, buf, sizeof(buf), 0);
			uint16_t id;

			if (r >= 12) {
				memcpy(&id, buf, 2);
				if (map[id].used) {
					memcpy(buf, &map[id].orig, 2);
					map[id].used = 0;
					sendto(cfd, buf, (size_t)r, 0, (struct sockaddr *)&map[id].from,
					    sizeof(map[id].from));
				}
			}
		}
	}
}
