/*
 * smime_mime.c - the MIME walk to the first S/MIME signed entity (see
 * smime_mime.h).
 *
 * Everything works on (pointer, length) spans of the caller's message: no
 * NUL is assumed, no byte past len is read. Header fields are looked up in
 * place (folded lines are whitespace to the lexers below); only the values
 * that are kept (Content-Type parameters, the From: address, the content
 * and the CMS bytes) are copied.
 *
 * The From: address itself is parsed in smime_mime_from.c.
 *
 * The walk is bounded recursion: one level per MIME nesting level, at most
 * lim->max_depth, and a part number longer than struct smime_mime's part
 * field is an error long before the stack matters.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "buf.h"
#include "mem.h"
#include "smime_mime.h"
#include "smime_util.h"

#define BOUNDARY_MAX 70	   /* RFC 2046 section 5.1.1 */
#define B64_CHUNK 65536	   /* EVP_DecodeUpdate takes an int length */

struct span {
	const char *p;
	size_t n;
};

/* A MIME entity split into its header (through the last field's line end)
 * and its body (after the empty line). */
struct entity {
	struct span hdr;
	struct span body;
};

/* The parts of a Content-Type field this file needs (NULL: absent). */
struct ctype {
	char *type;	  /* "type/subtype", lower case; "text/plain" by default */
	char *boundary;	  /* as given */
	char *protocol;	  /* lower case */
	char *smime_type; /* lower case */
};

struct walk {
	const struct smime_limits *lim;
	struct smime_mime *m;
	char **why;
};

static int walk_entity(struct walk *w, struct span e, const char *partno, unsigned depth);

/* ---- lines, headers ---------------------------------------------------- */

/* The index after the line that starts at i (after its LF, or n). */
static size_t
line_next(const char *p, size_t n, size_t i)
{
	const char *lf = i < n ? memchr(p + i, '\n', n - i) : NULL;

	return lf != NULL ? (size_t)(lf - p) + 1 : n;
}

/* Split p[0..n) at its first empty line (LF or CRLF); none: all header. */
static void
entity_split(const char *p, size_t n, struct entity *e)
{
	size_t i = 0;

	while (i < n) {
		size_t blank = 0;

		if (p[i] == '\n')
			blank = 1;
		else if (p[i] == '\r' && i + 1 < n && p[i + 1] == '\n')
			blank = 2;
		if (blank) {
			e->hdr = (struct span){ p, i };
			e->body = (struct span){ p + i + blank, n - i - blank };
			return;
		}
		i = line_next(p, n, i);
	}
	e->hdr = (struct span){ p, n };
	e->body = (struct span){ p + n, 0 };
}

/*
 * Find the header field name (case-insensitive) in h: *val is the first
 * one's value (after the colon, continuation lines included, without the
 * final line end). Returns how many such fields there are.
 */
static unsigned
hdr_find(struct span h, const char *name, struct span *val)
{
	size_t nlen = strlen(name), i = 0;
	unsigned count = 0;

	while (i < h.n) {
		size_t start = i, end, k;

		/* the field: its first line and every line that begins with WSP */
		end = line_next(h.p, h.n, i);
		while (end < h.n && (h.p[end] == ' ' || h.p[end] == '\t'))
			end = line_next(h.p, h.n, end);
		i = end;
		for (k = start; k < end && h.p[k] != ':' && h.p[k] != '\n'; k++)
			;
		if (k >= end || h.p[k] != ':')
			continue;
		/* obs-optional: WSP between the name and the colon */
		size_t ne = k;
		while (ne > start && (h.p[ne - 1] == ' ' || h.p[ne - 1] == '\t'))
			ne--;
		if (ne - start != nlen || strncasecmp(h.p + start, name, nlen) != 0)
			continue;
		if (count++ == 0) {
			while (end > k + 1 && (h.p[end - 1] == '\n' || h.p[end - 1] == '\r'))
				end--;
			*val = (struct span){ h.p + k + 1, end - k - 1 };
		}
	}
	return count;
}

/* ---- Content-Type, Content-Transfer-Encoding (RFC 2045) ----------------- */

static void
lower(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

/* An RFC 2045 token character. */
static int
is_token(unsigned char c)
{
	return c > ' ' && c < 0x7f && strchr("()<>@,;:\\\"/[]?=", c) == NULL;
}

/* A token (lower case) at l, or NULL when there is none. */
static char *
lex_token(struct smime_util_lex *l)
{
	size_t s = l->i;
	char *t;

	while (l->i < l->n && is_token((unsigned char)l->s[l->i]))
		l->i++;
	if (l->i == s)
		return NULL;
	t = xstrndup(l->s + s, l->i - s);
	lower(t);
	return t;
}

/* A parameter value: a quoted-string (unescaped) or, leniently, the bytes
 * up to ';', whitespace or a control character. */
static char *
lex_value(struct smime_util_lex *l)
{
	struct buf b;

	buf_init(&b);
	if (l->i < l->n && l->s[l->i] == '"') {
		for (l->i++; l->i < l->n && l->s[l->i] != '"'; l->i++) {
			if (l->s[l->i] == '\\' && l->i + 1 < l->n)
				l->i++;
			if (l->s[l->i] != '\r' && l->s[l->i] != '\n')
				buf_putc(&b, l->s[l->i]);
		}
		if (l->i < l->n)
			l->i++;
		return buf_steal(&b);
	}
	while (l->i < l->n) {
		unsigned char c = (unsigned char)l->s[l->i];

		if (c == ';' || c <= ' ' || c == 0x7f)
			break;
		buf_putc(&b, c);
		l->i++;
	}
	return buf_steal(&b);
}

/* Store one parameter in ct when it is one of the three we use. */
static void
ctype_param(struct ctype *ct, const char *attr, char *val)
{
	char **slot = NULL;

	if (strcmp(attr, "boundary") == 0)
		slot = &ct->boundary;
	else if (strcmp(attr, "protocol") == 0)
		slot = &ct->protocol;
	else if (strcmp(attr, "smime-type") == 0)
		slot = &ct->smime_type;
	if (slot == NULL || *slot != NULL) { /* not ours, or a repeat: the first counts */
		free(val);
		return;
	}
	if (slot != &ct->boundary)
		lower(val);
	*slot = val;
}

/* Parse a Content-Type value (absent or unusable: text/plain). */
static void
ctype_parse(const struct span *v, struct ctype *ct)
{
	struct smime_util_lex l = { v ? v->p : "", v ? v->n : 0, 0 };
	char *type = NULL, *sub = NULL;

	memset(ct, 0, sizeof(*ct));
	(void)smime_util_cfws(&l);
	type = lex_token(&l);
	(void)smime_util_cfws(&l);
	if (type != NULL && l.i < l.n && l.s[l.i] == '/') {
		l.i++;
		(void)smime_util_cfws(&l);
		sub = lex_token(&l);
	}
	ct->type = type != NULL && sub != NULL ? xasprintf("%s/%s", type, sub) : xstrdup("text/plain");
	free(type);
	free(sub);
	while (l.i < l.n) {
		char *attr;

		/* skip to the next ';' (lenient about junk between parameters) */
		while (l.i < l.n && l.s[l.i] != ';')
			l.i++;
		if (l.i >= l.n)
			break;
		l.i++;
		(void)smime_util_cfws(&l);
		if ((attr = lex_token(&l)) == NULL)
			continue;
		(void)smime_util_cfws(&l);
		if (l.i < l.n && l.s[l.i] == '=') {
			l.i++;
			(void)smime_util_cfws(&l);
			ctype_param(ct, attr, lex_value(&l));
		}
		free(attr);
	}
}

static void
ctype_free(struct ctype *ct)
{
	free(ct->type);
	free(ct->boundary);
	free(ct->protocol);
	free(ct->smime_type);
	memset(ct, 0, sizeof(*ct));
}

/* "part 1.2: " style prefix of an error about partno. */
static const char *
part_label(const char *partno, char *lab, size_t size)
{
	if (*partno == 0)
		snprintf(lab, size, "message");
	else
		snprintf(lab, size, "part %s", partno);
	return lab;
}

/* ---- decoding ----------------------------------------------------------- */

/*
 * Base64 (RFC 2045 section 6.8) through OpenSSL's EVP_Decode*: whitespace
 * and line ends are skipped; any other byte outside the alphabet is an
 * error (EVP_DecodeUpdate would take '-' as the end of the data), its
 * offset counted from the start of the part's body.
 */
static int
b64_decode(struct span in, const char *lab, uint8_t **out, size_t *outlen, char **why)
{
	EVP_ENCODE_CTX *ctx = NULL;
	uint8_t *d = NULL;
	size_t o = 0;
	int k, rc = -1;

	for (size_t i = 0; i < in.n; i++) {
		unsigned char c = (unsigned char)in.p[i];

		if ((c == 0 || strchr(" \t\r\n=+/", c) == NULL) && !(c >= 'A' && c <= 'Z') &&
		    !(c >= 'a' && c <= 'z') && !(c >= '0' && c <= '9')) {
			*why = xasprintf("%s: base64: invalid character at offset %zu", lab, i);
			return -1;
		}
	}
	d = xmalloc(in.n / 4 * 3 + 80);
	if ((ctx = EVP_ENCODE_CTX_new()) == NULL) {
		*why = xasprintf("%s: base64: out of memory", lab);
		goto out;
	}
	EVP_DecodeInit(ctx);
	for (size_t i = 0; i < in.n; i += B64_CHUNK) {
		size_t c = in.n - i < B64_CHUNK ? in.n - i : B64_CHUNK;

		if (EVP_DecodeUpdate(ctx, d + o, &k, (const unsigned char *)in.p + i, (int)c) < 0) {
			*why = xasprintf("%s: base64: invalid encoding", lab);
			goto out;
		}
		o += (size_t)k;
	}
	if (EVP_DecodeFinal(ctx, d + o, &k) < 0) {
		*why = xasprintf("%s: base64: truncated or invalid padding", lab);
		goto out;
	}
	o += (size_t)k;
	*out = d;
	*outlen = o;
	d = NULL;
	rc = 0;
out:
	EVP_ENCODE_CTX_free(ctx);
	free(d);
	return rc;
}

/* The body of e decoded per its Content-Transfer-Encoding. */
static int
body_decode(const struct entity *e, const char *partno, uint8_t **out, size_t *outlen, char **why)
{
	struct span v;
	char lab[48], *cte = NULL;
	int rc = -1;

	part_label(partno, lab, sizeof(lab));
	if (hdr_find(e->hdr, "Content-Transfer-Encoding", &v) > 0) {
		struct smime_util_lex l = { v.p, v.n, 0 };

		(void)smime_util_cfws(&l);
		cte = lex_token(&l);
	}
	if (cte != NULL && strcmp(cte, "base64") == 0) {
		rc = b64_decode(e->body, lab, out, outlen, why);
	} else if (cte == NULL || strcmp(cte, "7bit") == 0 || strcmp(cte, "8bit") == 0 ||
	    strcmp(cte, "binary") == 0) {
		*out = xmalloc(e->body.n ? e->body.n : 1);
		memcpy(*out, e->body.p, e->body.n);
		*outlen = e->body.n;
		rc = 0;
	} else {
		*why = xasprintf("%s: Content-Transfer-Encoding %.40s, not base64 or binary", lab, cte);
	}
	free(cte);
	return rc;
}

/* p[0..n) with every bare LF made CRLF (RFC 8551 section 3.1.1), NUL-terminated. */
static char *
crlf_canon(struct span s, size_t *outlen)
{
	size_t extra = 0, o = 0;
	char *d;

	for (size_t i = 0; i < s.n; i++)
		if (s.p[i] == '\n' && (i == 0 || s.p[i - 1] != '\r'))
			extra++;
	d = xmalloc(s.n + extra + 1);
	for (size_t i = 0; i < s.n; i++) {
		if (s.p[i] == '\n' && (i == 0 || s.p[i - 1] != '\r'))
			d[o++] = '\r';
		d[o++] = s.p[i];
	}
	d[o] = 0;
	*outlen = o;
	return d;
}

/* ---- multipart bodies (RFC 2046 section 5.1.1) ------------------------- */

struct mp {
	struct span body;
	const char *bnd;
	size_t blen;
	size_t pos;	  /* the next line to look at */
	int state;	  /* 0 before the first delimiter, 1 in parts, 2 done */
	int unclosed;	  /* the body ended without a close delimiter */
};

/* A delimiter line at i: 0 no, 1 delimiter, 2 close delimiter; *next is
 * the index after its line end. */
static int
mp_delim_at(const struct mp *mp, size_t i, size_t *next)
{
	const char *p = mp->body.p;
	size_t n = mp->body.n, j = i + 2 + mp->blen;
	int kind = 1;

	if (n - i < 2 + mp->blen || p[i] != '-' || p[i + 1] != '-' ||
	    memcmp(p + i + 2, mp->bnd, mp->blen) != 0)
		return 0;
	if (n - j >= 2 && p[j] == '-' && p[j + 1] == '-') {
		kind = 2;
		j += 2;
	}
	while (j < n && (p[j] == ' ' || p[j] == '\t'))
		j++;
	if (j == n || (p[j] == '\r' && j + 1 == n)) {
		*next = n;
		return kind;
	}
	if (p[j] == '\n' || (p[j] == '\r' && p[j + 1] == '\n')) {
		*next = line_next(p, n, j);
		return kind;
	}
	if (kind == 2) { /* text after "--boundary--": taken as the epilogue */
		*next = line_next(p, n, j);
		return 2;
	}
	return 0;
}

/* The next body part into *part: 1 one, 0 no more (mp->unclosed tells
 * whether the body ended without the close delimiter). */
static int
mp_next(struct mp *mp, struct span *part)
{
	const char *p = mp->body.p;
	size_t n = mp->body.n, i, nx = 0;
	int k = 0;

	if (mp->state == 0) { /* skip the preamble */
		for (i = 0; i < n; i = line_next(p, n, i))
			if ((k = mp_delim_at(mp, i, &nx)) != 0)
				break;
		mp->state = k == 1 ? 1 : 2;
		mp->unclosed = k == 0;
		mp->pos = nx;
	}
	if (mp->state == 2)
		return 0;
	for (i = mp->pos; i < n; i = line_next(p, n, i)) {
		if ((k = mp_delim_at(mp, i, &nx)) == 0)
			continue;
		/* the CRLF before the delimiter belongs to it */
		size_t end = i;
		if (end > mp->pos && p[end - 1] == '\n')
			end--;
		if (end > mp->pos && p[end - 1] == '\r')
			end--;
		*part = (struct span){ p + mp->pos, end - mp->pos };
		mp->pos = nx;
		if (k == 2)
			mp->state = 2;
		return 1;
	}
	mp->unclosed = 1;
	mp->state = 2;
	*part = (struct span){ p + mp->pos, n - mp->pos };
	return 1;
}

/* Check a boundary parameter: NULL when usable, else why not (static). */
static const char *
boundary_bad(const char *b)
{
	size_t n = strlen(b);

	if (n == 0)
		return "empty boundary";
	if (n > BOUNDARY_MAX)
		return "boundary longer than 70 characters";
	for (; *b; b++)
		if ((unsigned char)*b < ' ' || (unsigned char)*b >= 0x7f)
			return "boundary with a control or non-ASCII character";
	return NULL;
}

/* Child number i of partno into out (IMAP style); -1 when it does not fit. */
static int
part_child(const char *partno, unsigned i, char *out, size_t size)
{
	int k = *partno ? snprintf(out, size, "%s.%u", partno, i) : snprintf(out, size, "%u", i);

	return k < 0 || (size_t)k >= size ? -1 : 0;
}

/* Count one more MIME entity against lim->max_parts. */
static int
count_part(struct walk *w)
{
	if (++w->m->parts_seen > w->lim->max_parts) {
		*w->why = xasprintf("more than %u MIME parts", w->lim->max_parts);
		return -1;
	}
	return 0;
}

/* Entering the children of a multipart at depth: within lim->max_depth? */
static int
enter_level(struct walk *w, unsigned depth)
{
	if (depth + 1 > w->lim->max_depth) {
		*w->why = xasprintf("nesting deeper than %u levels", w->lim->max_depth);
		return -1;
	}
	if (depth + 1 > w->m->depth_seen)
		w->m->depth_seen = depth + 1;
	return 0;
}

/* multipart/signed (RFC 1847 section 2.1) at partno: 1 found, -1 error. */
static int
walk_signed(struct walk *w, const struct ctype *ct, struct span body, const char *partno,
    unsigned depth)
{
	struct mp mp = { .body = body };
	struct span part, parts[2];
	struct entity sig;
	char lab[48], signo[sizeof(w->m->part)];
	const char *bad;
	unsigned n = 0;

	part_label(partno, lab, sizeof(lab));
	if (ct->boundary == NULL) {
		*w->why = xasprintf("%s: multipart/signed without a boundary parameter", lab);
		return -1;
	}
	if ((bad = boundary_bad(ct->boundary)) != NULL) {
		*w->why = xasprintf("%s: multipart/signed: %s", lab, bad);
		return -1;
	}
	if (enter_level(w, depth) < 0)
		return -1;
	mp.bnd = ct->boundary;
	mp.blen = strlen(ct->boundary);
	while (mp_next(&mp, &part) == 1) {
		if (count_part(w) < 0)
			return -1;
		if (n < 2)
			parts[n] = part;
		n++;
	}
	if (mp.unclosed) {
		*w->why = xasprintf("%s: multipart/signed without its close delimiter", lab);
		return -1;
	}
	if (n != 2) {
		*w->why = xasprintf("%s: multipart/signed with %u body parts, not 2", lab, n);
		return -1;
	}
	if (part_child(partno, 2, signo, sizeof(signo)) < 0) {
		*w->why = xasprintf("%s: part number too long", lab);
		return -1;
	}
	entity_split(parts[1].p, parts[1].n, &sig);
	if (body_decode(&sig, signo, &w->m->cms, &w->m->cms_len, w->why) < 0)
		return -1;
	w->m->content = crlf_canon(parts[0], &w->m->content_len);
	w->m->kind = SMIME_MIME_DETACHED;
	snprintf(w->m->part, sizeof(w->m->part), "%s", partno);
	return 1;
}

/* The body parts of any other multipart, depth first: as walk_entity(). */
static int
walk_multipart(struct walk *w, const struct ctype *ct, struct span body, const char *partno,
    unsigned depth)
{
	struct mp mp = { .body = body };
	struct span part;
	char lab[48], child[sizeof(w->m->part)];
	const char *bad;
	unsigned i = 0;
	int rc;

	if (ct->boundary == NULL) /* lenient: nothing to walk into */
		return 0;
	if ((bad = boundary_bad(ct->boundary)) != NULL) {
		*w->why = xasprintf("%s: %s", part_label(partno, lab, sizeof(lab)), bad);
		return -1;
	}
	if (enter_level(w, depth) < 0)
		return -1;
	mp.bnd = ct->boundary;
	mp.blen = strlen(ct->boundary);
	while (mp_next(&mp, &part) == 1) {
		if (part_child(partno, ++i, child, sizeof(child)) < 0) {
			*w->why = xasprintf("%s: part number too long",
			    part_label(partno, lab, sizeof(lab)));
			return -1;
		}
		if ((rc = walk_entity(w, part, child, depth + 1)) != 0)
			return rc;
	}
	return 0;
}

static int
is_pkcs7_signature(const char *t)
{
	return t != NULL && (strcmp(t, "application/pkcs7-signature") == 0 ||
	    strcmp(t, "application/x-pkcs7-signature") == 0);
}

/*
 * One MIME entity (its header and body) numbered partno at depth: 1 the
 * search is over (a signed entity found, or an encrypted one that ends
 * it), 0 go on, -1 error (*w->why set).
 */
static int
walk_entity(struct walk *w, struct span e, const char *partno, unsigned depth)
{
	struct entity ent;
	struct ctype ct;
	struct span v;
	int rc = 0;

	if (count_part(w) < 0)
		return -1;
	entity_split(e.p, e.n, &ent);
	ctype_parse(hdr_find(ent.hdr, "Content-Type", &v) > 0 ? &v : NULL, &ct);
	if (strcmp(ct.type, "application/pkcs7-mime") == 0 ||
	    strcmp(ct.type, "application/x-pkcs7-mime") == 0) {
		rc = 1;
		if (ct.smime_type != NULL && strcmp(ct.smime_type, "signed-data") != 0)
			goto out; /* enveloped-data, compressed-data, certs-only: none */
		if (body_decode(&ent, partno, &w->m->cms, &w->m->cms_len, w->why) < 0) {
			rc = -1;
			goto out;
		}
		w->m->kind = SMIME_MIME_OPAQUE;
		snprintf(w->m->part, sizeof(w->m->part), "%s", partno);
	} else if (strcmp(ct.type, "multipart/signed") == 0 && is_pkcs7_signature(ct.protocol)) {
		rc = walk_signed(w, &ct, ent.body, partno, depth);
	} else if (strncmp(ct.type, "multipart/", 10) == 0) {
		rc = walk_multipart(w, &ct, ent.body, partno, depth);
	}
out:
	ctype_free(&ct);
	return rc;
}

/* Why there is no From: address when there are n (> 1) From: fields. */
static const char *
from_count_why(unsigned n)
{
	static const char *const w[] = { "2 From: fields", "3 From: fields", "4 From: fields" };

	return n - 2 < sizeof(w) / sizeof(w[0]) ? w[n - 2] : "more than 4 From: fields";
}

/*
 * smime_mime_parse - find the first S/MIME signed entity of msg.
 * msg: len bytes (NULL only with len 0), CRLF or LF; lim: the limits;
 * m: filled (zeroed first); why: set on error only, caller frees.
 * Returns 0 (m->kind NONE when there is no signature; m->from either way),
 * or -1 with *why and m cleared (smime_mime_clear()).
 */
int
smime_mime_parse(const char *msg, size_t len, const struct smime_limits *lim,
    struct smime_mime *m, char **why)
{
	struct walk w = { lim, m, why };
	struct entity top;
	struct span v;
	unsigned nfrom;

	memset(m, 0, sizeof(*m));
	*why = NULL;
	if (msg == NULL)
		msg = "", len = 0;
	if (len > lim->max_message) {
		*why = xasprintf("message of %zu bytes over smime_max_message %zu", len,
		    lim->max_message);
		return -1;
	}
	entity_split(msg, len, &top);
	nfrom = hdr_find(top.hdr, "From", &v);
	if (nfrom == 0)
		m->from_why = "no From: field";
	else if (nfrom > 1)
		m->from_why = from_count_why(nfrom);
	else
		m->from = smime_mime_from_addr(v.p, v.n, &m->from_why);
	if (walk_entity(&w, (struct span){ msg, len }, "", 0) < 0) {
		smime_mime_clear(m);
		return -1;
	}
	return 0;
}

/* smime_mime_clear - free m's buffers and zero it; NULL-safe, idempotent. */
void
smime_mime_clear(struct smime_mime *m)
{
	if (m == NULL)
		return;
	free(m->content);
	free(m->cms);
	free(m->from);
	memset(m, 0, sizeof(*m));
}
