/*
 * smime_mime_from.c - the addr-spec of a From: field (RFC 5322 section
 * 3.4 and 3.4.1; RFC 6532 UTF-8 allowed): smime_mime_from_addr() of
 * smime_mime.h.
 *
 * Two passes over the tokens of the value (whitespace, line ends and
 * nested comments skipped): the shape first (one mailbox, not a group or
 * a list, at most one angle-addr), then the addr-spec itself, put together
 * again without CFWS. Every reason is static text. No state.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "smime_mime.h"
#include "smime_util.h"

#define ADDR_MAX 254 /* RFC 5321 section 4.5.3.1.3: a path */

struct span {
	const char *p;
	size_t n;
};

enum atok { T_END, T_ATOM, T_QUOTED, T_DOMLIT, T_SPECIAL, T_ERR };

struct tok {
	enum atok t;
	struct span s;	  /* the token's bytes (quotes and brackets included) */
	char c;		  /* T_SPECIAL: the character */
	const char *why;  /* T_ERR */
};

/* RFC 5322 atext, and (RFC 6532) any non-ASCII byte. */
static int
is_atext(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    c >= 0x80 || (c != 0 && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* The token at l (after CFWS). */
static void
addr_tok(struct smime_util_lex *l, struct tok *t)
{
	size_t s;
	unsigned char c;

	memset(t, 0, sizeof(*t));
	if (smime_util_cfws(l) < 0) {
		t->t = T_ERR, t->why = "unterminated comment in From:";
		return;
	}
	if (l->i >= l->n) {
		t->t = T_END;
		return;
	}
	s = l->i;
	c = (unsigned char)l->s[l->i];
	if (c == '"' || c == '[') {
		char close = c == '"' ? '"' : ']';

		for (l->i++; l->i < l->n && l->s[l->i] != close; l->i++)
			if (l->s[l->i] == '\\' && l->i + 1 < l->n)
				l->i++;
		if (l->i >= l->n) {
			t->t = T_ERR, t->why = c == '"' ? "unterminated quoted string in From:" :
			    "unterminated domain literal in From:";
			return;
		}
		l->i++;
		t->t = c == '"' ? T_QUOTED : T_DOMLIT;
	} else if (is_atext(c)) {
		while (l->i < l->n && is_atext((unsigned char)l->s[l->i]))
			l->i++;
		t->t = T_ATOM;
	} else if (strchr("<>@,:;.\\]", c) != NULL && c != 0) {
		l->i++;
		t->t = T_SPECIAL, t->c = (char)c;
	} else {
		t->t = T_ERR, t->why = "invalid character in From:";
		return;
	}
	t->s = (struct span){ l->s + s, l->i - s };
}

/*
 * First pass: the shape of the field. Returns NULL and *angle (the offset
 * after the '<', or SIZE_MAX without one) when it is one mailbox, or why not.
 */
static const char *
addr_shape(const char *v, size_t len, size_t *angle)
{
	struct smime_util_lex l = { v, len, 0 };
	struct tok t;
	int inside = 0, any = 0;

	*angle = SIZE_MAX;
	for (addr_tok(&l, &t); t.t != T_END; addr_tok(&l, &t)) {
		any = 1;
		if (t.t == T_ERR)
			return t.why;
		if (t.t != T_SPECIAL)
			continue;
		if (inside) {
			inside = t.c != '>';
			continue;
		}
		if (t.c == '<') {
			if (*angle != SIZE_MAX)
				return "several addresses in From:";
			*angle = l.i;
			inside = 1;
		} else if (t.c == ',') {
			return "several addresses in From:";
		} else if (t.c == ':' || t.c == ';') {
			return "group syntax in From:";
		} else if (t.c == '>') {
			return "syntax error in From:";
		}
	}
	if (!any)
		return "no address in From:";
	return inside ? "unterminated angle bracket in From:" : NULL;
}

/* Append word *("." word) (T_ATOM, or T_QUOTED when quoted_ok) to b;
 * t is the current token, left at the one after. 0 ok, -1 none there. */
static int
addr_dotted(struct smime_util_lex *l, struct tok *t, struct buf *b, int quoted_ok)
{
	for (;;) {
		if (t->t != T_ATOM && !(quoted_ok && t->t == T_QUOTED))
			return -1;
		buf_append(b, t->s.p, t->s.n);
		addr_tok(l, t);
		if (t->t != T_SPECIAL || t->c != '.')
			return 0;
		buf_putc(b, '.');
		addr_tok(l, t);
	}
}

/* Second pass: the addr-spec from offset start (after '<' when angle). */
static char *
addr_spec(const char *v, size_t len, size_t start, int angle, const char **why)
{
	struct smime_util_lex l = { v, len, start };
	struct tok t;
	struct buf b;

	buf_init(&b);
	addr_tok(&l, &t);
	if (angle && t.t == T_SPECIAL && t.c == '@') { /* obs-route: "@a,@b:" */
		while (t.t != T_END && t.t != T_ERR && !(t.t == T_SPECIAL && t.c == ':'))
			addr_tok(&l, &t);
		addr_tok(&l, &t);
	}
	if (addr_dotted(&l, &t, &b, 1) < 0) {
		*why = "no local part in the address of From:";
		goto fail;
	}
	if (t.t != T_SPECIAL || t.c != '@') {
		*why = "no @ in the address of From:";
		goto fail;
	}
	buf_putc(&b, '@');
	addr_tok(&l, &t);
	if (t.t == T_DOMLIT) {
		buf_append(&b, t.s.p, t.s.n);
		addr_tok(&l, &t);
	} else if (addr_dotted(&l, &t, &b, 0) < 0) {
		*why = "no domain in the address of From:";
		goto fail;
	}
	if (angle && t.t == T_SPECIAL && t.c == '>')
		addr_tok(&l, &t);
	else if (angle)
		t.t = T_ERR;
	if (t.t != T_END) {
		*why = "text after the address in From:";
		goto fail;
	}
	if (b.len > ADDR_MAX) {
		*why = "address longer than 254 octets in From:";
		goto fail;
	}
	if (memchr(b.s, 0, b.len) != NULL) {
		*why = "invalid character in From:";
		goto fail;
	}
	*why = NULL;
	return buf_steal(&b);
fail:
	buf_free(&b);
	return NULL;
}

/*
 * smime_mime_from_addr - the single addr-spec of a From: value.
 * v: len bytes (folded or not, no NUL needed). Returns the addr-spec with
 * comments, whitespace, display name and angle brackets removed (a quoted
 * local part keeps its quotes, a domain literal its brackets; at most 254
 * octets), caller frees; or NULL with *why (static text).
 */
char *
smime_mime_from_addr(const char *v, size_t len, const char **why)
{
	size_t angle;
	const char *bad;

	if (v == NULL)
		v = "", len = 0;
	if ((bad = addr_shape(v, len, &angle)) != NULL) {
		*why = bad;
		return NULL;
	}
	return addr_spec(v, len, angle == SIZE_MAX ? 0 : angle, angle != SIZE_MAX, why);
}
