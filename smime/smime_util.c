/*
 * smime_util.c - helpers shared by the smime/ files (contract in
 * smime_util.h).
 */
#include "config.h"

#include <openssl/err.h>

#include "mem.h"
#include "smime_util.h"

char *
smime_util_ossl_why(const char *what)
{
	unsigned long e = ERR_peek_error();
	char text[256];
	char *s;

	if (e == 0)
		s = xstrdup(what);
	else {
		ERR_error_string_n(e, text, sizeof(text));
		s = xasprintf("%s: %s", what, text);
	}
	ERR_clear_error();
	return s;
}

int
smime_util_cfws(struct smime_util_lex *l)
{
	while (l->i < l->n) {
		char c = l->s[l->i];
		unsigned nest = 0;

		if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			l->i++;
			continue;
		}
		if (c != '(')
			return 0;
		do {
			c = l->s[l->i++];
			if (c == '\\' && l->i < l->n)
				l->i++;
			else if (c == '(')
				nest++;
			else if (c == ')')
				nest--;
		} while (nest > 0 && l->i < l->n);
		if (nest > 0)
			return -1;
	}
	return 0;
}
