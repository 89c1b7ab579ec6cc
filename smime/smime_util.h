/*
 * smime_util.h - the small helpers the smime/ files share (smime_util.c):
 * OpenSSL's error text for a reason, and the RFC 5322 CFWS skipper of the
 * header parsers (Content-Type, From:, Authentication-Results).
 * Threads: no shared state; OpenSSL's error queue is per thread.
 */
#ifndef DANEPOL_SMIME_UTIL_H
#define DANEPOL_SMIME_UTIL_H

#include <stddef.h>

/** "what: OpenSSL's first queued error" (or what alone); clears the queue. Caller frees. */
char *smime_util_ossl_why(const char *what);

/* A cursor over n bytes of s (not NUL-terminated), at i. */
struct smime_util_lex {
	const char *s;
	size_t n, i;
};

/**
 * Skip white space, line ends and (nested) comments with their
 * quoted-pairs. 0, or -1 when a comment is not closed (the rest is
 * skipped: i == n).
 */
int smime_util_cfws(struct smime_util_lex *l);

#endif
