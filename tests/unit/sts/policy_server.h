/*
 * policy_server.h - the STS unit tests' policy host: policy_server.py
 * (next to this file) started on a free loopback port with the offline
 * world's certificates. Criterion tests only (a missing world skips).
 */
#ifndef DANEPOL_TEST_POLICY_SERVER_H
#define DANEPOL_TEST_POLICY_SERVER_H

#include <sys/types.h>

struct policy_server {
	pid_t pid;
	unsigned port;
	char *ca;	/* WORLD_DIR/pki/ca.crt: the CA of its certificates */
	char *other_ca; /* a CA file that did not issue them (ss.crt) */
};

/** Start it and wait (at most 10 s) for "READY <port>"; asserts. */
void policy_server_start(struct policy_server *s);

/** Stop and reap it, free and zero *s. */
void policy_server_stop(struct policy_server *s);

#endif
