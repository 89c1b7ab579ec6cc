/*
 * test_conf.c - unit tests of danepol.conf parsing (conf/conf.h).
 *
 * Covers: every default; every value type with its bounds (min and max
 * accepted, one past refused with the range in the message); time units
 * converted to ms and s fields; every error with its file:line (unknown
 * key, missing '=', empty key, empty value, bad number, out of range,
 * duplicate, bad level, over-long line, NUL, control character, invalid
 * UTF-8, cross checks); comments, blanks, CRLF and BOM; status.* rows
 * collected raw; conf_load() on missing, oversized, binary and directory
 * paths; the conf_print() round trip; and doc/danepol.conf.5's key
 * summary against the table (keys, defaults, ranges).
 *
 * doc/danepol.conf.5 is read from $TOP_SRCDIR (make check sets it).
 */
#include "config.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "conf_value.h"

/* Parse text that must fail; returns the error (caller frees). */
static char *
parse_err(const char *text)
{
	char *err = NULL;
	struct conf *c = conf_parse(text, "t.conf", &err);

	cr_assert_null(c, "accepted: %s", text);
	cr_assert_not_null(err);
	return err;
}

/* Error of text must start with want_prefix and contain want_part. */
static void
expect_err(const char *text, const char *want_prefix, const char *want_part)
{
	char *err = parse_err(text);

	cr_expect(strncmp(err, want_prefix, strlen(want_prefix)) == 0,
	    "error \"%s\" does not start with \"%s\"", err, want_prefix);
	cr_expect(strstr(err, want_part) != NULL,
	    "error \"%s\" lacks \"%s\"", err, want_part);
	free(err);
}

static struct conf *
parse_ok(const char *text)
{
	char *err = NULL;
	struct conf *c = conf_parse(text, "t.conf", &err);

	cr_assert_not_null(c, "refused \"%s\": %s", text, err ? err : "?");
	cr_assert_null(err);
	return c;
}

static char *
print_str(const struct conf *c)
{
	char *s = NULL;
	size_t n = 0;
	FILE *fp = open_memstream(&s, &n);

	cr_assert_not_null(fp);
	conf_print(c, fp);
	fclose(fp);
	return s;
}

/* Write n bytes to a fresh temporary file; caller unlinks and frees. */
static char *
tmp_file(const void *data, size_t n)
{
	char *path = strdup("/tmp/test_conf.XXXXXX");
	int fd = mkstemp(path);

	cr_assert(fd >= 0);
	cr_assert_eq(write(fd, data, n), (ssize_t)n);
	close(fd);
	return path;
}

Test(conf, defaults)
{
	struct conf *c = conf_defaults();

	cr_assert_str_eq(c->path, "(defaults)");
	cr_expect_str_eq(c->trust_anchor_file, DEFAULT_TRUST_ANCHOR_FILE);
	cr_expect_null(c->trust_anchor);
	cr_expect_null(c->resolver_forward);
	cr_expect_null(c->resolver_config);
	cr_expect_eq(c->resolver_max_rtt_ms, 1000);
	cr_expect_eq(c->resolver_retries, 2);
	cr_expect_eq(c->resolver_threads, 2);
	cr_expect_eq(c->decision_timeout_ms, 5000);
	cr_expect_eq(c->ipv4, 1);
	cr_expect_eq(c->ipv6, 1);
	cr_expect_null(c->policy_table);
	cr_expect_str_eq(c->default_level, "dane");
	cr_expect_eq(c->insecure_mx_dane, 1);
	cr_expect_eq(c->smtp_port, 25);
	cr_expect_eq(c->max_mx_hosts, 10);
	cr_expect_eq(c->cache_size, 100000);
	cr_expect_eq(c->cache_min_ttl_s, 60);
	cr_expect_eq(c->cache_max_ttl_s, 3600);
	cr_expect_eq(c->cache_defer_ttl_s, 30);
	/* configure's paths: "/var/spool/postfix/danepol", "/run/danepol" in Debian */
	cr_expect_str_eq(c->milter_socket, "unix:" DANEPOL_SOCKET_DIR "/milter.sock");
	cr_expect_null(c->socketmap_socket);
	cr_expect_null(c->exim_socket);
	cr_expect_str_eq(c->user, "danepol");
	cr_expect_str_eq(c->socket_group, "postfix");
	cr_expect_eq(c->socket_mode, 0660);
	cr_expect_str_eq(c->pid_file, DANEPOL_RUN_DIR "/danepold.pid");
	cr_expect_eq(c->socket_idle_timeout_ms, 15000);
	cr_expect_eq(c->socket_request_timeout_ms, 10000);
	cr_expect_eq(c->milter_timeout_s, 1800);
	cr_expect_eq(c->on_error_tempfail, 1);
	cr_expect_eq(c->audit_only, 0);
	cr_expect_eq(c->use_rcpt_host, 1);
	cr_expect_eq(c->log_decisions, 0);
	cr_expect_eq(c->socketmap_tlsrpt, 0);
	cr_expect_null(c->smime_listeners); /* the S/MIME check is off by default */
	cr_expect_eq(c->smime_on_temperror_tempfail, 0);
	cr_expect_eq(c->smime_max_message, 10485760);
	cr_expect_str_eq(c->milter_smtp_transports, "smtp");
	cr_expect_str_eq(c->audit_log, "-");
	cr_expect_eq(c->audit_sync, 1);
	cr_expect_eq(c->nstatus, 0);
	conf_free(c);
}

Test(conf, empty_text_is_defaults)
{
	struct conf *c = parse_ok("# only a comment\n\n   \n\t# indented comment\n");
	struct conf *d = conf_defaults();
	char *a = print_str(c), *b = print_str(d);

	cr_expect_str_eq(c->path, "t.conf");
	cr_expect_str_eq(a, b);
	free(a);
	free(b);
	conf_free(c);
	conf_free(d);
}

/*
 * The packaged danepol.conf (conf_print_sample): as it is, it parses to
 * the defaults; every key line uncommented, too; every key of the table
 * is there once, right after a non-empty line of meaning.
 */
Test(conf, sample_has_every_key_with_meaning)
{
	char *s = NULL, *u, *a, *b, *line, *save = NULL;
	size_t n = 0, nkeys = 0, nprint = 0;
	FILE *fp = open_memstream(&s, &n);
	struct conf *d = conf_defaults(), *c;
	const char *prev = "";

	cr_assert_not_null(fp);
	conf_print_sample(fp);
	fclose(fp);
	c = parse_ok(s);
	a = print_str(c);
	b = print_str(d);
	cr_expect_str_eq(a, b, "the sample as installed is the defaults");
	conf_free(c);
	free(a);
	for (const char *p = b; *p != '\0'; p++)
		nprint += *p == '\n';
	/* uncomment "#key = value" lines */
	u = calloc(1, n + 1);
	cr_assert_not_null(u);
	for (line = strtok_r(s, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		if (line[0] == '#' && line[1] >= 'a' && line[1] <= 'z') {
			nkeys++;
			cr_expect(strncmp(prev, "# ", 2) == 0 && strlen(prev) > 4 &&
				strstr(prev, "(no meaning") == NULL,
			    "a line of meaning above %s (conf/conf.c's table)", line);
			strcat(u, line + 1);
		}
		strcat(u, "\n");
		prev = line;
	}
	cr_expect_eq(nkeys, nprint, "%zu key lines, danepold -p prints %zu", nkeys, nprint);
	c = parse_ok(u);
	a = print_str(c);
	cr_expect_str_eq(a, b, "the sample uncommented is the defaults");
	conf_free(c);
	conf_free(d);
	free(a);
	free(b);
	free(u);
	free(s);
}

Test(conf, strings_and_none)
{
	struct conf *c = parse_ok(
	    "trust_anchor = . IN DS 20326 8 2 E06D44B8\n"
	    "resolver_config = /etc/unbound/x.conf\n"
	    "policy_table = relative/policy\n"
	    "pid_file = none\n"
	    "socket_group = none\n"
	    "audit_log = none\n");

	cr_expect_str_eq(c->trust_anchor, ". IN DS 20326 8 2 E06D44B8");
	cr_expect_str_eq(c->resolver_config, "/etc/unbound/x.conf");
	cr_expect_str_eq(c->policy_table, "relative/policy");
	cr_expect_null(c->pid_file);
	cr_expect_null(c->socket_group);
	cr_expect_null(c->audit_log);
	conf_free(c);
	/* user is not optional: "none" is a name; milter_socket = none: no milter */
	c = parse_ok("user = none\nmilter_socket = none\n");
	cr_expect_str_eq(c->user, "none");
	cr_expect_null(c->milter_socket);
	conf_free(c);
}

Test(conf, blanks_comments_value_hash)
{
	struct conf *c = parse_ok(
	    "  \t trust_anchor_file\t=\t/a b/#c  \t\n"
	    "#user = root\n"
	    "status.no-address = 451 4.4.4 see (#42) \n");

	cr_expect_str_eq(c->trust_anchor_file, "/a b/#c");
	cr_expect_str_eq(c->user, "danepol");
	cr_assert_eq(c->nstatus, 1);
	cr_expect_str_eq(c->status[0].value, "451 4.4.4 see (#42)");
	conf_free(c);
}

/* A trailing comment after a value is refused, never kept in the value. */
Test(conf, trailing_comment_refused)
{
	expect_err("audit_log = /var/log/danepol/audit.log # comment\n", "t.conf:1: ",
	    "audit_log: value contains \" #\": comments must be on a line of their own");
	expect_err("# ok\nsocket_mode = 0660\t# the default\n", "t.conf:2: ",
	    "socket_mode: value contains \"\\t#\"");
	expect_err("status.no-address = 451 4.4.4 see #42\n", "t.conf:1: ",
	    "status.no-address: value contains \" #\"");
	expect_err("report_org_name = Example Ltd #1\n", "t.conf:1: ", "e.g. \"(#42)\"");
}

Test(conf, crlf_and_bom)
{
	struct conf *c = parse_ok("\xef\xbb\xbfipv6 = no\r\n\r\nsmtp_port = 26\r\n");

	cr_expect_eq(c->ipv6, 0);
	cr_expect_eq(c->smtp_port, 26);
	conf_free(c);
	/* no newline at the end of the last line */
	c = parse_ok("smtp_port = 27");
	cr_expect_eq(c->smtp_port, 27);
	conf_free(c);
}

Test(conf, bools)
{
	static const struct { const char *v; int want; } cases[] = {
		{ "yes", 1 }, { "YES", 1 }, { "true", 1 }, { "on", 1 }, { "1", 1 },
		{ "no", 0 }, { "No", 0 }, { "false", 0 }, { "off", 0 }, { "0", 0 },
	};
	char text[64];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(text, sizeof(text), "audit_only = %s\n", cases[i].v);
		struct conf *c = parse_ok(text);

		cr_expect_eq(c->audit_only, cases[i].want, "%s", cases[i].v);
		conf_free(c);
	}
	expect_err("\naudit_only = maybe\n", "t.conf:2: ", "bad boolean");
	expect_err("audit_only = 2\n", "t.conf:1: ", "bad boolean");
}

Test(conf, uint_bounds)
{
	static const struct { const char *key; unsigned min, max; size_t off; } keys[] = {
		{ "resolver_retries", 1, 10, offsetof(struct conf, resolver_retries) },
		{ "resolver_threads", 1, 16, offsetof(struct conf, resolver_threads) },
		{ "smtp_port", 1, 65535, offsetof(struct conf, smtp_port) },
		{ "max_mx_hosts", 1, 64, offsetof(struct conf, max_mx_hosts) },
		{ "cache_size", 1, 10000000, offsetof(struct conf, cache_size) },
	};
	char text[128], range[64];

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		unsigned v[2] = { keys[i].min, keys[i].max };

		for (int j = 0; j < 2; j++) {
			snprintf(text, sizeof(text), "%s = %u\n", keys[i].key, v[j]);
			struct conf *c = parse_ok(text);

			cr_expect_eq(*(unsigned *)(void *)((char *)c + keys[i].off), v[j], "%s", text);
			conf_free(c);
		}
		snprintf(range, sizeof(range), "out of range (%u..%u)", keys[i].min, keys[i].max);
		snprintf(text, sizeof(text), "%s = %u\n", keys[i].key, keys[i].min - 1);
		expect_err(text, "t.conf:1: ", range);
		snprintf(text, sizeof(text), "%s = %u\n", keys[i].key, keys[i].max + 1);
		expect_err(text, "t.conf:1: ", range);
	}
	expect_err("smtp_port = 99999999999999999999999\n", "t.conf:1: ", "out of range (1..65535)");
	expect_err("smtp_port = -1\n", "t.conf:1: ", "bad number");
	expect_err("smtp_port = +25\n", "t.conf:1: ", "bad number");
	expect_err("smtp_port = 25x\n", "t.conf:1: ", "bad number");
	expect_err("smtp_port = 2 5\n", "t.conf:1: ", "bad number");
	expect_err("smtp_port = 0x19\n", "t.conf:1: ", "bad number");
}

Test(conf, times)
{
	static const struct { const char *text; unsigned ms, s; } cases[] = {
		{ "5", 5000, 5 }, { "5s", 5000, 5 }, { "5000ms", 5000, 5 },
		{ "1m", 60000, 60 }, { "1h", 0, 3600 }, { "100ms", 100, 0 },
	};
	char text[128];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct conf *c;

		if (cases[i].ms) {
			snprintf(text, sizeof(text), "decision_timeout = %s\n", cases[i].text);
			c = parse_ok(text);
			cr_expect_eq(c->decision_timeout_ms, cases[i].ms, "%s", text);
			conf_free(c);
		}
		if (cases[i].s) {
			snprintf(text, sizeof(text), "cache_defer_ttl = %s\n", cases[i].text);
			c = parse_ok(text);
			cr_expect_eq(c->cache_defer_ttl_s, cases[i].s, "%s", text);
			conf_free(c);
		}
	}
	expect_err("decision_timeout = 99ms\n", "t.conf:1: ", "out of range (100ms..60s)");
	expect_err("decision_timeout = 60001ms\n", "t.conf:1: ", "out of range (100ms..60s)");
	expect_err("decision_timeout = 2h\n", "t.conf:1: ", "out of range (100ms..60s)");
	expect_err("resolver_max_rtt = 49ms\n", "t.conf:1: ", "out of range (50ms..120s)");
	expect_err("cache_defer_ttl = 3601\n", "t.conf:1: ", "out of range (0s..3600s)");
	expect_err("cache_defer_ttl = 1500ms\n", "t.conf:1: ", "whole number of seconds");
	expect_err("decision_timeout = soon\n", "t.conf:1: ", "bad time");
	expect_err("decision_timeout = 5 s\n", "t.conf:1: ", "unit");
	expect_err("decision_timeout = 5d\n", "t.conf:1: ", "unit");
	expect_err("decision_timeout = 5S\n", "t.conf:1: ", "unit");
	expect_err("decision_timeout = 99999999999999999999h\n", "t.conf:1: ", "out of range");
	{
		struct conf *c = parse_ok("cache_min_ttl = 0\ncache_defer_ttl = 0ms\n");

		cr_expect_eq(c->cache_min_ttl_s, 0);
		cr_expect_eq(c->cache_defer_ttl_s, 0);
		conf_free(c);
	}
}

Test(conf, enums_mode_level)
{
	struct conf *c = parse_ok("on_error = accept\naudit_sync = fsync\n"
	    "socket_mode = 600\ndefault_level = dane-only\n");

	cr_expect_eq(c->on_error_tempfail, 0);
	cr_expect_eq(c->audit_sync, 2);
	cr_expect_eq(c->socket_mode, 0600);
	cr_expect_str_eq(c->default_level, "dane-only");
	conf_free(c);
	c = parse_ok("audit_sync = none\nsocket_mode = 0\n");
	cr_expect_eq(c->audit_sync, 0);
	cr_expect_eq(c->socket_mode, 0);
	conf_free(c);
	expect_err("on_error = reject\n", "t.conf:1: ", "accept tempfail");
	expect_err("audit_sync = sync\n", "t.conf:1: ", "none flush fsync");
	expect_err("socket_mode = 0778\n", "t.conf:1: ", "bad mode");
	expect_err("socket_mode = 1777\n", "t.conf:1: ", "out of range (0000..0777)");
	expect_err("socket_mode = rw\n", "t.conf:1: ", "bad mode");
	expect_err("\n\ndefault_level = strict\n", "t.conf:3: ", "bad level");
	expect_err("default_level = DANE\n", "t.conf:1: ", "bad level");
}

Test(conf, sockets)
{
	static const char *const good[] = {
		"unix:/run/x.sock", "local:/run/x.sock", "inet:10025@127.0.0.1",
		"inet:10025", "inet:1@localhost", "inet:65535@mail.example.",
		"inet6:10025@::1", "inet6:10025@[::1]", "inet6:10025",
	};
	static const struct { const char *v, *why; } bad[] = {
		{ "unix:run/x.sock", "absolute" }, { "/run/x.sock", "bad socket" },
		{ "tcp:25@host", "bad socket" }, { "inet:0@127.0.0.1", "port" },
		{ "inet:65536@127.0.0.1", "port" }, { "inet:@127.0.0.1", "port" },
		{ "inet:25@", "host" }, { "inet:25@bad_host", "host" },
		{ "inet:25@-a.example", "host" }, { "inet:25@::1", "host" },
		{ "inet6:25@[::g]", "host" }, { "inet:x@host", "port" },
	};
	char text[512];

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(text, sizeof(text), "milter_socket = %s\nsocketmap_socket = %s\n", good[i], good[i]);
		struct conf *c = parse_ok(text);

		cr_expect_str_eq(c->milter_socket, good[i]);
		cr_expect_str_eq(c->socketmap_socket, good[i]);
		conf_free(c);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "exim_socket = %s\n", bad[i].v);
		expect_err(text, "t.conf:1: exim_socket: ", bad[i].why);
	}
	/* issue 13: HOST:PORT gets libmilter's PORT@HOST spelling as a hint */
	expect_err("milter_socket = inet:127.0.0.1:8891\n", "t.conf:1: milter_socket: ",
	    "did you mean inet:8891@127.0.0.1?");
	expect_err("milter_socket = inet:localhost:8891\n", "t.conf:1: ",
	    "did you mean inet:8891@localhost?");
	expect_err("milter_socket = inet6:[::1]:8891\n", "t.conf:1: ", "did you mean inet6:8891@[::1]?");
	expect_err("milter_socket = inet:bad_host:8891\n", "t.conf:1: ", "(inet:PORT@HOST)");
	expect_err("milter_socket = inet:127.0.0.1:99999\n", "t.conf:1: ", "(inet:PORT@HOST)");
	expect_err("resolver_forward = 127.0.0.1:53\n", "t.conf:1: resolver_forward: ",
	    "did you mean 127.0.0.1@53?");
	expect_err("resolver_forward = [::1]:53\n", "t.conf:1: ", "bad address (an IPv4"); /* no hint */
	/* sun_path holds 107 bytes and a NUL */
	snprintf(text, sizeof(text), "milter_socket = unix:/%0106d\n", 0);
	conf_free(parse_ok(text));
	snprintf(text, sizeof(text), "milter_socket = unix:/%0107d\n", 0);
	expect_err(text, "t.conf:1: ", "path longer than 107 bytes");
}

Test(conf, forward_and_names)
{
	struct conf *c = parse_ok("resolver_forward = 127.0.0.1@5353\nuser = _danepol-1.x\n");

	cr_expect_str_eq(c->resolver_forward, "127.0.0.1@5353");
	cr_expect_str_eq(c->user, "_danepol-1.x");
	conf_free(c);
	c = parse_ok("resolver_forward = 2001:db8::53\n");
	cr_expect_str_eq(c->resolver_forward, "2001:db8::53");
	conf_free(c);
	expect_err("resolver_forward = dns.example\n", "t.conf:1: ", "bad address");
	expect_err("resolver_forward = 127.0.0.1@0\n", "t.conf:1: ", "bad port");
	expect_err("resolver_forward = @53\n", "t.conf:1: ", "bad address");
	expect_err("user = root user\n", "t.conf:1: ", "bad user or group name");
	expect_err("socket_group = -g\n", "t.conf:1: ", "bad user or group name");
	expect_err("user = abcdefghijklmnopqrstuvwxyz0123456\n", "t.conf:1: ", "bad user");
}

/* milter_smtp_transports: a list of master.cf service names, bounded. */
Test(conf, transport_lists)
{
	struct conf *c = parse_ok("milter_smtp_transports = smtp,relay  smtp-out\n");
	char text[512], *err;

	cr_expect(conf_value_words_has(c->milter_smtp_transports, "smtp"));
	cr_expect(conf_value_words_has(c->milter_smtp_transports, "relay"));
	cr_expect(conf_value_words_has(c->milter_smtp_transports, "smtp-out"));
	cr_expect(!conf_value_words_has(c->milter_smtp_transports, "smt"));
	cr_expect(!conf_value_words_has(c->milter_smtp_transports, "smtp-o"));
	cr_expect(!conf_value_words_has(c->milter_smtp_transports, "SMTP"));
	cr_expect(!conf_value_words_has(c->milter_smtp_transports, ""));
	cr_expect(!conf_value_words_has(NULL, "smtp"));
	conf_free(c);
	expect_err("milter_smtp_transports = smtp;local\n", "t.conf:1: ", "bad name \"smtp;local\"");
	expect_err("milter_smtp_transports = ,,\n", "t.conf:1: ", "no name");
	/* 65 bytes: too long, and the error quotes at most 64 of them */
	snprintf(text, sizeof(text), "milter_smtp_transports = %065d\n", 0);
	expect_err(text, "t.conf:1: milter_smtp_transports: ", "bad name \"");
	err = parse_err(text);
	cr_expect(strstr(err, "\"0000000000000000000000000000000000000000000000000000000000000000\" "
	    "(at most 64") != NULL, "%s", err);
	free(err);
	snprintf(text, sizeof(text), "milter_smtp_transports = %064d\n", 0);
	conf_free(parse_ok(text));
	/* 32 names fine, 33 too many */
	strcpy(text, "milter_smtp_transports =");
	for (int i = 0; i < 32; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text), " t%d", i);
	strcat(text, "\n");
	conf_free(parse_ok(text));
	text[strlen(text) - 1] = 0;
	strcat(text, ",t32\n");
	expect_err(text, "t.conf:1: ", "more than 32 names");
}

/* issue 13: a typo gets the closest key; a far or ambiguous one the man page */
Test(conf, unknown_key_suggestions)
{
	expect_err("polcy_table = /x\n", "t.conf:1: ",
	    "unknown key \"polcy_table\" (did you mean \"policy_table\"?)");
	expect_err("audit_lgo = -\n", "t.conf:1: ", "(did you mean \"audit_log\"?)");
	expect_err("resolver_thread = 2\n", "t.conf:1: ", "(did you mean \"resolver_threads\"?)");
	expect_err("no_such_key = 1\n", "t.conf:1: ",
	    "unknown key \"no_such_key\" (danepol.conf(5) lists the keys)");
	expect_err("ipv = yes\n", "t.conf:1: ", "(danepol.conf(5) lists the keys)"); /* ipv4 or ipv6 */
}

/* issue 13: the line that set a key, for errors found after parsing */
Test(conf, key_lines)
{
	struct conf *c = parse_ok("# x\nipv4 = yes\n\npolicy_table = /etc/t\n");

	cr_expect_eq(conf_key_line(c, "ipv4"), 2);
	cr_expect_eq(conf_key_line(c, "policy_table"), 4);
	cr_expect_eq(conf_key_line(c, "ipv6"), 0, "default");
	cr_expect_eq(conf_key_line(c, "no_such_key"), 0);
	conf_free(c);
	c = conf_defaults();
	cr_expect_eq(conf_key_line(c, "ipv4"), 0);
	conf_free(c);
}

Test(conf, syntax_errors_with_lines)
{
	expect_err("# c\n\nno_such_key = 1\n", "t.conf:3: ", "unknown key \"no_such_key\"");
	expect_err("ipv4 = yes\nipv4\n", "t.conf:2: ", "missing '='");
	expect_err("= value\n", "t.conf:1: ", "empty key");
	expect_err("ipv4 =\n", "t.conf:1: ", "empty value");
	expect_err("ipv4 =   \t \n", "t.conf:1: ", "empty value");
	expect_err("trust_anchor = \n", "t.conf:1: ", "empty value");
	expect_err("smtp port = 25\n", "t.conf:1: ", "invalid key");
	expect_err("ipv4 = yes\n\nipv4 = no\n", "t.conf:3: ", "duplicate key \"ipv4\" (first set at line 1)");
	expect_err("IPV4 = yes\n", "t.conf:1: ", "unknown key \"IPV4\" (did you mean \"ipv4\"?)");
	expect_err("x\x01y = 1\n", "t.conf:1: ", "control character");
	expect_err("ipv4 = yes\r\r\n", "t.conf:1: ", "control character");
	expect_err("a = \xff\xfe\n", "t.conf:1: ", "invalid UTF-8");
	expect_err("a = \xc0\xaf\n", "t.conf:1: ", "invalid UTF-8");		/* overlong '/' */
	expect_err("a = \xed\xa0\x80\n", "t.conf:1: ", "invalid UTF-8");	/* surrogate */
	expect_err("a = \xe2\x82\n", "t.conf:1: ", "invalid UTF-8");		/* cut */
	{
		/* UTF-8 in values is fine */
		struct conf *c = parse_ok("policy_table = /etc/danepol/politique-été\n");

		cr_expect_str_eq(c->policy_table, "/etc/danepol/politique-été");
		conf_free(c);
	}
}

Test(conf, long_lines)
{
	char *text = malloc(10100);

	memcpy(text, "ipv4 = yes\ntrust_anchor = ", 26);
	memset(text + 26, 'A', 10000);
	strcpy(text + 10026, "\n");
	expect_err(text, "t.conf:2: ", "line too long (more than 4096 bytes)");
	/* exactly 4096 bytes is fine, and its CR does not count */
	memset(text, 'A', 4096);
	memcpy(text, "trust_anchor = ", 15);
	strcpy(text + 4096, "\r\n");
	conf_free(parse_ok(text));
	strcpy(text + 4096, "A\n");
	expect_err(text, "t.conf:1: ", "line too long");
	free(text);
}

Test(conf, status_rows_raw)
{
	struct conf *c = parse_ok("ipv4 = yes\n"
	    "status.dane-required = 451 4.7.5 DANE required\n"
	    "status.no-such-reason = anything goes here\n");

	cr_assert_eq(c->nstatus, 2);
	cr_expect_str_eq(c->status[0].reason, "dane-required");
	cr_expect_str_eq(c->status[0].value, "451 4.7.5 DANE required");
	cr_expect_eq(c->status[0].line, 2);
	cr_expect_str_eq(c->status[1].reason, "no-such-reason");
	cr_expect_eq(c->status[1].line, 3);
	conf_free(c);
	expect_err("status.null-mx = 556 5.1.10 a\nstatus.null-mx = 556 5.1.10 b\n",
	    "t.conf:2: ", "duplicate key \"status.null-mx\" (first set at line 1)");
	expect_err("status. = 451 4.7.5 x\n", "t.conf:1: ", "empty reason");
	expect_err("status.null-mx =\n", "t.conf:1: ", "empty value");
}

Test(conf, too_many_status_rows)
{
	char *text = malloc(200 * 64), *p = text;

	for (int i = 0; i < 200; i++)
		p += sprintf(p, "status.r%d = 451 4.7.5 x\n", i);
	expect_err(text, "t.conf:129: ", "too many status");
	free(text);
}

Test(conf, cross_checks)
{
	expect_err("cache_max_ttl = 30s\n\ncache_min_ttl = 31s\n", "t.conf:3: ",
	    "cache_min_ttl (31s) exceeds cache_max_ttl (30s)");
	expect_err("cache_max_ttl = 10\n", "t.conf:1: ", "exceeds");	/* default min 60s */
	expect_err("ipv6 = no\nipv4 = off\n", "t.conf:2: ", "both off");
	conf_free(parse_ok("cache_min_ttl = 0\ncache_max_ttl = 0\nipv6 = no\n"));
}

Test(conf, print_round_trip_defaults)
{
	struct conf *c = conf_defaults(), *d;
	char *a = print_str(c), *b, *err = NULL;

	cr_expect(strstr(a, "decision_timeout = 5s\n") != NULL, "%s", a);
	cr_expect(strstr(a, "socket_mode = 0660\n") != NULL, "%s", a);
	cr_expect(strstr(a, "trust_anchor = none\n") != NULL, "%s", a);
	cr_expect(strstr(a, "audit_log = -\n") != NULL, "%s", a);
	d = conf_parse(a, "printed", &err);
	cr_assert_not_null(d, "%s", err);
	b = print_str(d);
	cr_expect_str_eq(a, b);
	free(a);
	free(b);
	conf_free(c);
	conf_free(d);
}

Test(conf, print_round_trip_everything_set)
{
	static const char text[] =
	    "trust_anchor_file = /x/root.key\n"
	    "trust_anchor = . IN DS 1 8 2 AB\n"
	    "resolver_forward = ::1@53\n"
	    "resolver_config = /x/unbound.conf\n"
	    "resolver_max_rtt = 1500ms\n"
	    "resolver_retries = 4\n"
	    "resolver_threads = 3\n"
	    "decision_timeout = 1m\n"
	    "ipv4 = no\n"
	    "ipv6 = on\n"
	    "policy_table = /x/policy\n"
	    "default_level = may\n"
	    "insecure_mx_dane = false\n"
	    "smtp_port = 2525\n"
	    "max_mx_hosts = 3\n"
	    "cache_size = 7\n"
	    "cache_min_ttl = 0\n"
	    "cache_max_ttl = 2h\n"
	    "cache_defer_ttl = 1m\n"
	    "milter_socket = inet6:10025@[::1]\n"
	    "socketmap_socket = inet:10026@localhost\n"
	    "exim_socket = unix:/run/e.sock\n"
	    "control_socket = unix:/run/c.sock\n"
	    "metrics_socket = inet:9357@127.0.0.1\n"
	    "user = nobody\n"
	    "socket_group = none\n"
	    "socket_mode = 0640\n"
	    "socket_world_access = no\n"
	    "pid_file = none\n"
	    "socket_idle_timeout = 20s\n"
	    "socket_request_timeout = 1500ms\n"
	    "milter_timeout = 10m\n"
	    "on_error = accept\n"
	    "audit_only = yes\n"
	    "use_rcpt_host = 0\n"
	    "milter_smtp_transports = smtp, smtp-out\tsmtp_v6\n"
	    "log_decisions = yes\n"
	    "socketmap_tlsrpt = yes\n"
	    "smime_listeners = inbound mx-in\n"
	    "smime_authserv_id = mx.example.org\n"
	    "smime_max_message = 2048000\n"
	    "smime_max_depth = 4\n"
	    "smime_max_parts = 50\n"
	    "smime_max_certs = 9\n"
	    "smime_timeout = 7s\n"
	    "smime_ocsp_timeout = 1500ms\n"
	    "smime_ocsp_internal = yes\n"
	    "smime_on_temperror = tempfail\n"
	    "audit_log = /var/log/danepol.json\n"
	    "audit_sync = fsync\n"
	    "probe = yes\n"
	    "probe_interval = 2h\n"
	    "probe_step_timeout = 2500ms\n"
	    "probe_helo = probe.example\n"
	    "probe_defer = yes\n"
	    "sts = yes\n"
	    "sts_ca_file = /x/ca.pem\n"
	    "sts_fetch_timeout = 3s\n"
	    "sts_https_port = 8443\n"
	    "outcome_db = /x/out.db\n"
	    "relay_name = relay1.example\n"
	    "outcome_queue_max = 500\n"
	    "outcome_db_timeout = 2s\n"
	    "local_db = /x/rq.db\n"
	    "postfix_log = /var/log/mail.log\n"
	    "report_org_name = Example Org\n"
	    "report_contact = mailto:tlsrpt@example.org\n"
	    "report_from = tlsrpt@example.org\n"
	    "report_dir = /x/reports\n"
	    "report_sendmail = /x/sendmail\n"
	    "report_retry = 0\n"
	    "selfcheck_domains = example.org mail.example.net\n"
	    "selfcheck_interval = 1h\n"
	    "selfcheck_cert_files = /x/chain.pem\n"
	    "selfcheck_cert_warn_days = 30\n"
	    "selfcheck_cert_crit_days = 10\n"
	    "selfcheck_sig_warn_days = 5\n"
	    "selfcheck_sig_crit_days = 1\n"
	    "selfcheck_prometheus_file = /x/danepol.prom\n"
	    "rollover_ttls = 3\n"
	    "status.null-mx = 550 5.1.10 no mail here\n"
	    "status.dane = DANE it is\n";
	struct conf *c = parse_ok(text), *d;
	char *a = print_str(c), *b, *err = NULL;

	cr_expect(strstr(a, "resolver_max_rtt = 1500ms\n") != NULL, "%s", a);
	cr_expect(strstr(a, "decision_timeout = 60s\n") != NULL, "%s", a);
	cr_expect(strstr(a, "cache_max_ttl = 7200s\n") != NULL, "%s", a);
	cr_expect(strstr(a, "ipv6 = yes\n") != NULL, "%s", a);
	cr_expect(strstr(a, "status.dane = DANE it is\n") != NULL, "%s", a);
	d = conf_parse(a, "printed", &err);
	cr_assert_not_null(d, "%s", err);
	b = print_str(d);
	cr_expect_str_eq(a, b);
	cr_expect_eq(d->resolver_max_rtt_ms, 1500);
	cr_expect_eq(d->decision_timeout_ms, 60000);
	cr_expect_eq(d->cache_max_ttl_s, 7200);
	cr_expect_eq(d->ipv4, 0);
	cr_expect_null(d->socket_group);
	cr_expect_str_eq(d->milter_socket, "inet6:10025@[::1]");
	cr_expect_str_eq(d->control_socket, "unix:/run/c.sock");
	cr_expect_str_eq(d->metrics_socket, "inet:9357@127.0.0.1");
	cr_expect_eq(d->socket_mode, 0640);
	cr_expect_eq(d->on_error_tempfail, 0);
	cr_expect_eq(d->nstatus, 2);
	cr_expect_eq(d->probe, 1);
	cr_expect_eq(d->probe_interval_s, 7200);
	cr_expect_eq(d->probe_step_timeout_ms, 2500);
	cr_expect_eq(d->socket_idle_timeout_ms, 20000);
	cr_expect_eq(d->socket_request_timeout_ms, 1500);
	cr_expect_eq(d->milter_timeout_s, 600);
	cr_expect_str_eq(d->report_org_name, "Example Org");
	cr_expect_eq(d->report_retry_s, 0);
	cr_expect_eq(d->log_decisions, 1);
	cr_expect_eq(d->socketmap_tlsrpt, 1);
	cr_expect_eq(d->sts, 1);
	cr_expect_str_eq(d->sts_ca_file, "/x/ca.pem");
	cr_expect_eq(d->sts_fetch_timeout_ms, 3000);
	cr_expect_eq(d->sts_https_port, 8443);
	cr_expect_eq(conf_value_words_has(d->smime_listeners, "mx-in"), 1);
	cr_expect_eq(conf_value_words_has(d->smime_listeners, "smtpd"), 0);
	cr_expect_str_eq(d->smime_authserv_id, "mx.example.org");
	cr_expect_eq(d->smime_max_message, 2048000);
	cr_expect_eq(d->smime_max_depth, 4);
	cr_expect_eq(d->smime_max_parts, 50);
	cr_expect_eq(d->smime_max_certs, 9);
	cr_expect_eq(d->smime_timeout_ms, 7000);
	cr_expect_eq(d->smime_ocsp_timeout_ms, 1500);
	cr_expect_eq(d->smime_on_temperror_tempfail, 1);
	/* every printed key is set in text, so no key is left at its default */
	for (const char *p = a; *p; p = strchr(p, '\n') + 1) {
		char key[80];

		snprintf(key, sizeof(key), "\n%.*s = ", (int)strcspn(p, " "), p);
		cr_expect(strncmp(text, key + 1, strlen(key + 1)) == 0 || strstr(text, key) != NULL,
		    "key %s not set in the test text", key + 1);
	}
	free(a);
	free(b);
	conf_free(c);
	conf_free(d);
}

/*
 * The connection timeouts: bounds, and the ordering the defaults must keep
 * against Postfix. dict_sockmap closes a socketmap connection after 10 s
 * idle (DICT_SOCKMAP_DEF_MAX_IDLE, Postfix src/util/dict_sockmap.c), so
 * danepold's idle timeout must be longer, or it could close a connection
 * just as Postfix reuses it. A milter connection lives for a whole SMTP
 * session and is idle while Postfix waits for the client (smtpd_timeout,
 * 300 s) or receives a message: milter_timeout must exceed that, and
 * Postfix's own milter_content_timeout (300 s).
 */
Test(conf, connection_timeouts)
{
	struct conf *c = conf_defaults();

	cr_expect_gt(c->socket_idle_timeout_ms, 10000, "socket_idle_timeout must exceed Postfix's 10 s");
	cr_expect_gt(c->milter_timeout_s, 300, "milter_timeout must exceed smtpd_timeout (300 s)");
	conf_free(c);
	c = parse_ok("socket_idle_timeout = 100ms\nsocket_request_timeout = 5m\nmilter_timeout = 7210s\n");
	cr_expect_eq(c->socket_idle_timeout_ms, 100);
	cr_expect_eq(c->socket_request_timeout_ms, 300000);
	cr_expect_eq(c->milter_timeout_s, 7210);
	conf_free(c);
	expect_err("socket_idle_timeout = 99ms\n", "t.conf:1: ", "out of range (100ms..3600s)");
	expect_err("socket_idle_timeout = 2h\n", "t.conf:1: ", "out of range (100ms..3600s)");
	expect_err("socket_request_timeout = 301s\n", "t.conf:1: ", "out of range (100ms..300s)");
	expect_err("milter_timeout = 0\n", "t.conf:1: ", "out of range (1s..7210s)");
	expect_err("milter_timeout = 7211s\n", "t.conf:1: ", "out of range (1s..7210s)");
	expect_err("milter_timeout = 1500ms\n", "t.conf:1: ", "");
}

Test(conf, load_missing_and_directory)
{
	char *err = NULL;

	cr_expect_null(conf_load("/nonexistent/danepol.conf", &err));
	cr_assert_not_null(err);
	cr_expect_str_eq(err, "/nonexistent/danepol.conf: cannot open: No such file or directory");
	free(err);
	err = NULL;
	cr_expect_null(conf_load("/tmp", &err));
	cr_assert_not_null(err);
	cr_expect(strstr(err, "/tmp: ") == err, "%s", err);
	free(err);
}

Test(conf, load_file_and_nul)
{
	static const char good[] = "smtp_port = 26\n";
	static const char nul[] = "smtp_port = 26\nipv4 = y\0es\n";
	char *path = tmp_file(good, sizeof(good) - 1), *err = NULL, *want;
	struct conf *c = conf_load(path, &err);

	cr_assert_not_null(c, "%s", err);
	cr_expect_str_eq(c->path, path);
	cr_expect_eq(c->smtp_port, 26);
	conf_free(c);
	unlink(path);
	free(path);

	path = tmp_file(nul, sizeof(nul) - 1);
	cr_expect_null(conf_load(path, &err));
	want = NULL;
	cr_assert(asprintf(&want, "%s:2: NUL byte in line", path) > 0);
	cr_expect_str_eq(err, want);
	free(want);
	free(err);
	unlink(path);
	free(path);
}

/* Issue 11, item 10: sockets open to every user need saying so. */
Test(conf, socket_mode_world_bits)
{
	struct conf *c;

	expect_err("socket_mode = 0777\n", "t.conf:1: ", "socket_world_access = yes");
	expect_err("socket_mode = 0666\n", "t.conf:1: ", "lets every local user");
	expect_err("\nsocket_mode = 0661\n", "t.conf:2: ", "bits 0007");
	expect_err("socket_world_access = no\nsocket_mode = 0604\n", "t.conf:2: ", "0604");
	c = parse_ok("socket_mode = 0777\nsocket_world_access = yes\n");
	cr_expect_eq(c->socket_mode, 0777);
	cr_expect_eq(c->socket_world_access, 1);
	conf_free(c);
	c = parse_ok("socket_mode = 0770\n");
	cr_expect_eq(c->socket_world_access, 0);
	conf_free(c);
}

/* Issue 11, item 10: OpenSSH's StrictModes for the settings files. */
Test(conf, load_refuses_world_writable_and_foreign)
{
	static const char good[] = "smtp_port = 26\n";
	char *path = tmp_file(good, sizeof(good) - 1), *err = NULL;
	struct conf *c;

	cr_assert_eq(chmod(path, 0666), 0);
	cr_expect_null(conf_load(path, &err));
	cr_assert_not_null(err);
	cr_expect(strstr(err, "writable by every user (mode 0666): refused") != NULL, "%s", err);
	free(err);
	err = NULL;
	cr_assert_eq(chmod(path, 0664), 0);
	c = conf_load(path, &err);
	cr_expect_not_null(c, "%s", err);
	conf_free(c);
	if (geteuid() == 0) {
		cr_assert_eq(chown(path, 65534, (gid_t)-1), 0);
		cr_expect_null(conf_load(path, &err));
		cr_assert_not_null(err);
		cr_expect(strstr(err, "owned by uid 65534, not root") != NULL, "%s", err);
		free(err);
	}
	unlink(path);
	free(path);
}

Test(conf, load_binary_junk)
{
	unsigned char junk[4096];
	char *path, *err = NULL;
	unsigned x = 12345;

	for (size_t i = 0; i < sizeof(junk); i++) {
		x = x * 1103515245 + 12345;
		junk[i] = (unsigned char)(x >> 16);
	}
	junk[0] = 0x89;		/* like a PNG header: not UTF-8 */
	path = tmp_file(junk, sizeof(junk));
	cr_expect_null(conf_load(path, &err));
	cr_assert_not_null(err);
	cr_expect(strncmp(err, path, strlen(path)) == 0 && strstr(err, ":1: ") != NULL, "%s", err);
	free(err);
	unlink(path);
	free(path);
}

Test(conf, load_oversized)
{
	size_t n = 1024 * 1024 + 1;
	char *big = malloc(n), *path, *err = NULL;

	for (size_t i = 0; i < n; i++)
		big[i] = i % 64 == 63 ? '\n' : '#';
	path = tmp_file(big, n);
	cr_expect_null(conf_load(path, &err));
	cr_assert_not_null(err);
	cr_expect(strstr(err, "larger than 1 MiB") != NULL, "%s", err);
	free(err);
	unlink(path);
	free(path);
	/* exactly 1 MiB of comments is fine */
	path = tmp_file(big, n - 1);
	conf_free(conf_load(path, &err));
	cr_expect_null(err, "%s", err);
	unlink(path);
	free(path);
	free(big);
}

/* Remove mdoc escapes "\-" and "\&" in place. */
static void
unescape(char *s)
{
	char *o = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] == '-') {
			*o++ = '-';
			s++;
		} else if (s[0] == '\\' && s[1] == '&') {
			s++;
		} else {
			*o++ = *s;
		}
	}
	*o = 0;
}

/*
 * A default of the man page (written for --sysconfdir=/etc
 * --localstatedir=/var --runstatedir=/run) with this build's directories
 * (config.h) in dst: identical in such a build.
 */
static void
configured_path(const char *doc, char *dst, size_t n)
{
	static const struct {
		const char *doc, *built;
	} dirs[] = {
		{ "unix:/var/spool/postfix/danepol/", "unix:" DANEPOL_SOCKET_DIR "/" },
		{ "/run/danepol/", DANEPOL_RUN_DIR "/" },
		{ "/var/lib/danepol/", DANEPOL_STATE_DIR "/" },
	};

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		size_t l = strlen(dirs[i].doc);

		if (strncmp(doc, dirs[i].doc, l) == 0) {
			snprintf(dst, n, "%s%s", dirs[i].built, doc + l);
			return;
		}
	}
	snprintf(dst, n, "%s", doc);
}

/*
 * The man page's KEY SUMMARY rows ".It Cm KEY Ta TYPE Ta RANGE Ta DEFAULT"
 * list the keys of conf_print() in the same order with the same defaults,
 * every key has a ".It Cm KEY No =" entry, and each range's ends parse
 * while a huge value fails with exactly that range in the message.
 */
Test(conf, man_page_in_step)
{
	const char *top = getenv("TOP_SRCDIR");
	char path[4096], line[1024], *printed, *p, text[2048];
	struct conf *d = conf_defaults();
	FILE *fp;
	size_t rows = 0;

	cr_assert_not_null(top, "TOP_SRCDIR not set");
	snprintf(path, sizeof(path), "%s/doc/danepol.conf.5", top);
	cr_assert_not_null(fp = fopen(path, "r"), "%s", path);
	printed = print_str(d);
	p = printed;
	while (fgets(line, sizeof(line), fp)) {
		char *f[4], *s = line, *dflt, want[2048], built[1024];
		int n = 0;

		if (strncmp(line, ".It Cm ", 7) != 0 || strstr(line, " Ta ") == NULL)
			continue;
		line[strcspn(line, "\n")] = 0;
		s = line + 7;
		for (char *t; n < 4 && (t = strstr(s, " Ta ")) != NULL; s = t + 4) {
			*t = 0;
			f[n++] = s;
		}
		cr_assert_eq(n, 3, "bad summary row: %s", line);
		f[n++] = s;
		unescape(f[2]);
		unescape(f[3]);
		configured_path(f[3], built, sizeof(built));	/* configure's directories */
		dflt = built;
		if (strcmp(f[0], "trust_anchor_file") == 0)
			dflt = DEFAULT_TRUST_ANCHOR_FILE;	/* configure --with-trust-anchor */
		snprintf(want, sizeof(want), "%s = %s\n", f[0], dflt);
		cr_expect(strncmp(p, want, strlen(want)) == 0,
		    "man row %zu \"%s\" vs printed \"%.*s\"", rows, want, (int)strcspn(p, "\n"), p);
		p = strchr(p, '\n') ? strchr(p, '\n') + 1 : p + strlen(p);
		rows++;
		if (strcmp(f[2], "-") != 0) {
			char lo[64], hi[64], *dots = strstr(f[2], "..");

			cr_assert_not_null(dots, "range of %s", f[0]);
			snprintf(lo, sizeof(lo), "%.*s", (int)(dots - f[2]), f[2]);
			snprintf(hi, sizeof(hi), "%s", dots + 2);
			/* the other cache TTL, or the world bits' consent, out of
			 * the way of the cross checks */
			const char *other = strcmp(f[0], "cache_max_ttl") == 0 ? "cache_min_ttl = 0\n" :
			    strcmp(f[0], "cache_min_ttl") == 0 ? "cache_max_ttl = 604800\n" :
			    strcmp(f[0], "socket_mode") == 0 ? "socket_world_access = yes\n" : "";

			snprintf(text, sizeof(text), "%s = %s\n%s", f[0], lo, other);
			conf_free(parse_ok(text));
			snprintf(text, sizeof(text), "%s = %s\n%s", f[0], hi, other);
			conf_free(parse_ok(text));
			snprintf(text, sizeof(text), "%s = %s\n", f[0],
			    strcmp(f[1], "mode") == 0 ? "1777" : "77777777777");
			snprintf(want, sizeof(want), "out of range (%s)", f[2]);
			expect_err(text, "t.conf:1: ", want);
		}
	}
	cr_expect_str_eq(p, "", "keys printed but not in the man page: %s", p);
	cr_expect_gt(rows, 20);
	/* every key has its own entry */
	for (p = printed; *p; p = strchr(p, '\n') + 1) {
		char key[64], cmd[9000];

		snprintf(key, sizeof(key), "%.*s", (int)strcspn(p, " "), p);
		snprintf(cmd, sizeof(cmd), "grep -q '^\\.It Cm %s No = ' '%s' || "
		    "grep -q ', Cm %s No = ' '%s'", key, path, key, path);
		cr_expect_eq(system(cmd), 0, "no entry for %s in the man page", key);
	}
	fclose(fp);
	free(printed);
	conf_free(d);
}
