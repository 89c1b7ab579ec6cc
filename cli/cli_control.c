/*
 * cli_control.c - `danepol query` and `danepol stats`: one connection per
 * request to danepold's control socket, "query DOMAIN\n" or "stats\n"
 * out, one JSON line back (contract in cli_control.h).
 *
 * The socket is -S SOCKET, else control_socket of the configuration
 * (-c FILE, the global -c, or the default file); the same syntax as the
 * configuration's (unix:PATH, local:PATH, inet:PORT@HOST,
 * inet6:PORT@HOST). Every wait is bounded by CTL_TIMEOUT_S (a query may
 * take a whole decision, decision_timeout). The reply is printed as
 * danepold wrote it, after a check that it is one JSON object.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <jansson.h>

#include "buf.h"
#include "cli.h"
#include "cli_control.h"
#include "io.h"
#include "log.h"
#include "mem.h"
#include "policy_check.h"
#include "sockspec.h"

#define CTL_TIMEOUT_S 70	/* longest decision_timeout (60 s) and some */
#define CTL_REPLY_MAX (1 << 20) /* a reply longer than this is refused */

struct ctl_opts {
	const char *conf_path;
	const char *socket;
	char **domains;
	int ndomains;
};

void
cli_query_usage(FILE *fp)
{
	fprintf(fp,
	    "usage: danepol query [-c FILE] [-S SOCKET] DOMAIN...\n"
	    "  -c FILE    configuration file (its control_socket)\n"
	    "  -S SOCKET  danepold's control socket (unix:PATH, inet:PORT@HOST)\n"
	    "prints the decision danepold holds for each DOMAIN as one JSON line\n"
	    "(doc/query.schema.json): from its cache (\"cached\": true, \"age_s\"), or made now.\n"
	    "exit: most severe verdict (0 require, 1 try, 2 defer, 3 reject);\n"
	    "      64 usage, 65 request refused, 69 danepold not reachable,\n"
	    "      76 bad reply, 77 permission denied, 78 configuration error\n");
}

void
cli_stats_usage(FILE *fp)
{
	fprintf(fp,
	    "usage: danepol stats [-c FILE] [-S SOCKET]\n"
	    "  -c FILE    configuration file (its control_socket)\n"
	    "  -S SOCKET  danepold's control socket (unix:PATH, inet:PORT@HOST)\n"
	    "prints danepold's counters as one JSON line (the numbers of its /metrics).\n"
	    "exit: 0; 64 usage, 69 danepold not reachable, 76 bad reply,\n"
	    "      77 permission denied, 78 configuration error\n");
}

/* Options of either command; want_domains: query. -1 to go on, else the exit. */
static int
ctl_parse(const struct cli_global *g, int argc, char **argv, struct ctl_opts *o, int want_domains,
    void (*usage)(FILE *))
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	memset(o, 0, sizeof(*o));
	o->conf_path = g->conf_path;
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":c:S:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			o->conf_path = optarg;
			break;
		case 'S':
			o->socket = optarg;
			break;
		default:
			return cli_other_option(argv[0], ch, argv, usage);
		}
	}
	if (want_domains)
		return cli_domains(argv[0], argc, argv, usage, &o->domains, &o->ndomains);
	if (optind < argc) {
		msg_error("%s: unexpected argument %.64s", argv[0], argv[optind]);
		usage(stderr);
		return EX_USAGE;
	}
	return -1;
}

/* The socket to use into *spec (new string). -1 to go on, else the exit. */
static int
ctl_socket(const struct ctl_opts *o, char **spec)
{
	struct conf *c;

	if (o->socket) {
		*spec = xstrdup(o->socket);
		return -1;
	}
	if ((c = policy_check_load(o->conf_path)) == NULL)
		return EX_CONFIG;
	if (c->control_socket == NULL) {
		msg_error("%s: control_socket is none: set it (and restart danepold), or give -S "
			  "SOCKET",
		    c->path ? c->path : "the configuration");
		conf_free(c);
		return EX_CONFIG;
	}
	*spec = xstrdup(c->control_socket);
	conf_free(c);
	return -1;
}

/* Why connect() failed, as an exit status, after saying so. */
static int
ctl_unreachable(const char *spec, int err)
{
	if (err == EACCES || err == EPERM) {
		msg_error(
		    "cannot connect to danepold's control socket %s: %s (see socket_group and "
		    "socket_mode in danepol.conf(5))",
		    spec, strerror(err));
		return EX_NOPERM;
	}
	msg_error("cannot connect to danepold's control socket %s: %s (is danepold running with "
		  "control_socket = %s?)",
	    spec, strerror(err), spec);
	return EX_UNAVAILABLE;
}

static void
ctl_timeouts(int fd)
{
	struct timeval tv = { CTL_TIMEOUT_S, 0 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* Connect to spec: the descriptor, or -1 with the exit status in *ex. */
static int
ctl_connect(const char *spec, int *ex)
{
	struct addrinfo hints, *res = NULL;
	char *port = NULL, *host = NULL;
	int fd = -1, family, rc, err;

	if (strncmp(spec, "unix:", 5) == 0 || strncmp(spec, "local:", 6) == 0) {
		struct sockaddr_un sun;
		const char *path = strchr(spec, ':') + 1;

		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		if (strlen(path) >= sizeof(sun.sun_path)) {
			msg_error("control socket %.200s: path too long", spec);
			*ex = EX_USAGE;
			return -1;
		}
		memcpy(sun.sun_path, path, strlen(path));
		if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
			*ex = ctl_unreachable(spec, errno);
			return -1;
		}
		ctl_timeouts(fd);
		if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
			err = errno;
			close(fd);
			*ex = ctl_unreachable(spec, err);
			return -1;
		}
		return fd;
	}
	if (sockspec_inet(spec, &family, &port, &host) < 0) {
		msg_error("control socket %.200s: expected unix:PATH, inet:PORT@HOST or "
			  "inet6:PORT@HOST",
		    spec);
		*ex = EX_USAGE;
		return -1;
	}
	if (host == NULL)
		host = xstrdup(family == AF_INET ? "127.0.0.1" : "::1");
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = family;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
		msg_error("control socket %.200s: %s", spec, gai_strerror(rc));
		*ex = EX_UNAVAILABLE;
		goto out;
	}
	if ((fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
		*ex = ctl_unreachable(spec, errno);
		goto out;
	}
	ctl_timeouts(fd);
	if (connect(fd, res->ai_addr, res->ai_addrlen) < 0) {
		err = errno;
		close(fd);
		fd = -1;
		*ex = ctl_unreachable(spec, err);
	}
out:
	if (res)
		freeaddrinfo(res);
	free(port);
	free(host);
	return fd;
}

/*
 * Send request (a line) to spec and read the reply line into *reply (a
 * parsed JSON object) and *text. -1 to go on, else the exit status.
 */
static int
ctl_ask(const char *spec, const char *request, json_t **reply, struct buf *text)
{
	json_error_t jerr;
	char tmp[4096];
	ssize_t n;
	int fd, ex = EX_OK;

	*reply = NULL;
	if ((fd = ctl_connect(spec, &ex)) < 0)
		return ex;
	if (io_write_all(fd, request, strlen(request)) < 0) {
		msg_error("control socket %s: cannot send the request: %s", spec, strerror(errno));
		close(fd);
		return EX_UNAVAILABLE;
	}
	shutdown(fd, SHUT_WR);
	buf_reset(text);
	while (text->len < CTL_REPLY_MAX && (n = read(fd, tmp, sizeof(tmp))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			msg_error("control socket %s: no reply: %s", spec,
			    errno == EAGAIN ? "timed out" : strerror(errno));
			close(fd);
			return EX_PROTOCOL;
		}
		buf_append(text, tmp, (size_t)n);
	}
	close(fd);
	while (text->len > 0 && text->s[text->len - 1] == '\n')
		text->s[--text->len] = 0;
	if (text->len == 0 || memchr(text->s, '\n', text->len) != NULL ||
	    (*reply = json_loads(text->s, 0, &jerr)) == NULL || !json_is_object(*reply)) {
		msg_error("control socket %s: %s", spec,
		    text->len == 0 ? "danepold closed the connection without a reply"
				   : "the reply is not one JSON object");
		json_decref(*reply);
		*reply = NULL;
		return EX_PROTOCOL;
	}
	return -1;
}

/* An {"error": ...} reply: say so; the exit status, or -1 when none. */
static int
ctl_error(const json_t *reply)
{
	const char *e = json_string_value(json_object_get(reply, "error"));

	if (e == NULL)
		return -1;
	msg_error("danepold: %.200s", e);
	return strstr(e, "not ready") ? EX_UNAVAILABLE : EX_DATAERR;
}

static int
ctl_verdict_exit(const json_t *reply)
{
	const char *v =
	    json_string_value(json_object_get(json_object_get(reply, "decision"), "verdict"));

	if (v == NULL)
		return EX_PROTOCOL;
	if (strcmp(v, "require") == 0)
		return CLI_EX_REQUIRE;
	if (strcmp(v, "try") == 0)
		return CLI_EX_TRY;
	if (strcmp(v, "reject") == 0)
		return CLI_EX_REJECT;
	return CLI_EX_DEFER;
}

int
cli_query(const struct cli_global *g, int argc, char **argv)
{
	struct ctl_opts o;
	struct buf text;
	json_t *reply;
	char *spec = NULL, *req;
	int ex, worst = CLI_EX_REQUIRE;

	if ((ex = ctl_parse(g, argc, argv, &o, 1, cli_query_usage)) >= 0)
		return ex;
	if ((ex = ctl_socket(&o, &spec)) >= 0)
		return ex;
	buf_init(&text);
	for (int i = 0; i < o.ndomains; i++) {
		if (strpbrk(o.domains[i], " \t\r\n") != NULL) {
			msg_error("query: %.64s: a DOMAIN has no blanks or line ends",
			    o.domains[i]);
			worst = EX_USAGE;
			break;
		}
		req = xasprintf("query %s\n", o.domains[i]);
		ex = ctl_ask(spec, req, &reply, &text);
		free(req);
		if (ex < 0 && (ex = ctl_error(reply)) < 0) {
			printf("%s\n", text.s);
			ex = ctl_verdict_exit(reply);
		}
		json_decref(reply);
		if (ex > worst)
			worst = ex;
		if (ex > CLI_EX_REJECT && ex != EX_DATAERR)
			break; /* the daemon is not there: the next ones would fail alike */
	}
	buf_free(&text);
	free(spec);
	return worst;
}

int
cli_stats(const struct cli_global *g, int argc, char **argv)
{
	struct ctl_opts o;
	struct buf text;
	json_t *reply;
	char *spec = NULL;
	int ex;

	if ((ex = ctl_parse(g, argc, argv, &o, 0, cli_stats_usage)) >= 0)
		return ex;
	if ((ex = ctl_socket(&o, &spec)) >= 0)
		return ex;
	buf_init(&text);
	ex = ctl_ask(spec, "stats\n", &reply, &text);
	if (ex < 0 && (ex = ctl_error(reply)) < 0) {
		printf("%s\n", text.s);
		ex = EX_OK;
	}
	json_decref(reply);
	buf_free(&text);
	free(spec);
	return ex;
}
