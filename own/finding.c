/*
 * finding.c - the findings list of the own-side checks (finding.h).
 */
#include "config.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "mem.h"
#include "finding.h"

void
findings_add(struct findings *f, enum finding_sev sev, const char *code, const char *subject,
    const char *action, const char *fmt, ...)
{
	struct finding *x;
	struct buf b;
	va_list ap;

	if (f->n == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 8;
		f->v = xreallocarray(f->v, f->cap, sizeof(*f->v));
	}
	buf_init(&b);
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	x = &f->v[f->n++];
	x->sev = sev;
	x->code = xstrdup(code);
	x->subject = xstrdup(subject ? subject : "");
	x->text = buf_steal(&b);
	x->action = xstrdup_null(action);
}

void
findings_append(struct findings *dst, const struct findings *src)
{
	for (size_t i = 0; src && i < src->n; i++)
		findings_add(dst, src->v[i].sev, src->v[i].code, src->v[i].subject,
		    src->v[i].action, "%s", src->v[i].text);
}

/* CRITICAL > WARNING > UNKNOWN > OK */
static int
sev_rank(enum finding_sev s)
{
	switch (s) {
	case FINDING_CRITICAL:
		return 3;
	case FINDING_WARNING:
		return 2;
	case FINDING_UNKNOWN:
		return 1;
	default:
		return 0;
	}
}

enum finding_sev
findings_worst(const struct findings *f)
{
	enum finding_sev w = FINDING_OK;
	size_t i;

	for (i = 0; i < f->n; i++)
		if (sev_rank(f->v[i].sev) > sev_rank(w))
			w = f->v[i].sev;
	return w;
}

size_t
findings_count(const struct findings *f, enum finding_sev sev)
{
	size_t i, n = 0;

	for (i = 0; i < f->n; i++)
		n += f->v[i].sev == sev;
	return n;
}

const char *
finding_sev_name(enum finding_sev sev)
{
	switch (sev) {
	case FINDING_OK:
		return "OK";
	case FINDING_WARNING:
		return "WARNING";
	case FINDING_CRITICAL:
		return "CRITICAL";
	default:
		return "UNKNOWN";
	}
}

/* s into b with '|' and line breaks replaced. */
static void
put_plain(struct buf *b, const char *s)
{
	for (; s && *s; s++)
		buf_putc(b, *s == '|' ? '/' : (*s == '\n' || *s == '\r') ? ' ' : *s);
}

void
findings_print(FILE *fp, const char *label, const struct findings *f)
{
	struct buf b;

	buf_init(&b);
	for (size_t j = 0; j < f->n; j++) {
		const struct finding *x = &f->v[j];

		buf_reset(&b);
		buf_printf(&b, "%s %s %s %s: ", finding_sev_name(x->sev), label, x->code,
		    x->subject);
		put_plain(&b, x->text);
		if (x->action) {
			buf_puts(&b, " -> ");
			put_plain(&b, x->action);
		}
		fprintf(fp, "%s\n", b.s);
	}
	buf_free(&b);
}

void
findings_clear(struct findings *f)
{
	size_t i;

	if (f == NULL)
		return;
	for (i = 0; i < f->n; i++) {
		free(f->v[i].code);
		free(f->v[i].subject);
		free(f->v[i].text);
		free(f->v[i].action);
	}
	free(f->v);
	memset(f, 0, sizeof(*f));
}
