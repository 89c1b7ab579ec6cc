/*
 * conf.h - danepol.conf: typed "key = value" settings with bounds.
 *
 * One table lists every key with its type, default and bounds (conf.c);
 * doc/danepol.conf.5 documents the same rows. Unknown keys, bad values,
 * out-of-range numbers and duplicates are errors naming file:line.
 * Times take a unit suffix (ms, s, m, h; bare numbers are seconds).
 * Keys "status.<reason>" are collected raw for policy_status_set(), which
 * validates them (errors are reported with their line by the caller).
 *
 * A struct conf is an immutable snapshot once conf_load() returns: callers
 * build a new one to reload and swap it; conf_free() releases it.
 */
#ifndef DANEPOL_CONF_H
#define DANEPOL_CONF_H

#include <stddef.h>
#include <stdio.h>

struct conf_status_override {
	char *reason; /* text after "status." */
	char *value;  /* "450 4.7.5 text" */
	unsigned line;
};

struct conf {
	char *path; /* file it came from, or "(defaults)" */
	/* resolver */
	char *trust_anchor_file;      /* default DEFAULT_TRUST_ANCHOR_FILE */
	char *trust_anchor;	      /* DS/DNSKEY string, or NULL */
	char *resolver_forward;	      /* "addr[@port]", or NULL */
	char *resolver_config;	      /* extra unbound config file, or NULL */
	unsigned resolver_max_rtt_ms; /* default 1000, 50..120000 */
	unsigned resolver_retries;    /* default 2, 1..10 */
	unsigned resolver_threads;    /* libunbound contexts, default 2, 1..16 */
	unsigned decision_timeout_ms; /* default 5000, 100..60000 */
	int ipv4;		      /* default yes */
	int ipv6;		      /* default yes */
	/* policy */
	char *policy_table;    /* path, or NULL */
	char *default_level;   /* default "dane" */
	int insecure_mx_dane;  /* default yes */
	unsigned smtp_port;    /* default 25 */
	unsigned max_mx_hosts; /* default 10, 1..64 */
	/* cache */
	unsigned cache_size;	    /* default 100000, 1..10000000 */
	unsigned cache_min_ttl_s;   /* default 60 */
	unsigned cache_max_ttl_s;   /* default 3600 */
	unsigned cache_defer_ttl_s; /* default 30 */
	/* danepold: sockets and process (doc/danepol.conf.5, danepold(8)) */
	char *milter_socket;	 /* default "unix:/var/spool/postfix/danepol/milter.sock"
					 * (inside Postfix's chroot, doc/postfix.md);
					 * "inet:PORT@HOST", "inet6:PORT@HOST", "unix:PATH"
					 * (also "local:PATH"); validated by conf_parse();
					 * NULL ("none"): no milter, only the other sockets */
	char *socketmap_socket;	 /* Postfix socketmap, same syntax, or NULL (off) */
	char *exim_socket;	 /* Exim ${readsocket} line protocol, same syntax, or NULL (off) */
	char *control_socket;	 /* danepol query/stats (one JSON line per request), or NULL */
	char *metrics_socket;	 /* Prometheus /metrics over HTTP (libmicrohttpd), or NULL */
	char *user;		 /* default "danepol": run as this user after binding */
	char *socket_group;	 /* default "postfix": group of unix sockets, or NULL = user's */
	unsigned socket_mode;	 /* default 0660 (octal in the file), 0..0777; bits in
					 * 0007 need socket_world_access */
	int socket_world_access; /* default no: socket_mode with "other" bits is an error */
	char *pid_file;		 /* default "/run/danepol/danepold.pid", or NULL (none) */
	unsigned socket_idle_timeout_ms; /* default 15s, 100ms..1h: socketmap/Exim idle */
	unsigned
	    socket_request_timeout_ms; /* default 10s, 100ms..300s: one request, from its first byte */
	unsigned milter_timeout_s;     /* default 1800s, 1s..7210s: smfi_settimeout() */
	/* danepold: milter behaviour */
	int on_error_tempfail;	      /* on_error = tempfail (1, default) | accept (0) */
	int audit_only;		      /* default no: never tempfail at RCPT, only audit */
	int use_rcpt_host;	      /* default yes: decide on Postfix's {rcpt_host} next hop */
	char *milter_smtp_transports; /* default "smtp": the {rcpt_mailer} transports judged
					 * at RCPT (conf_value_words() syntax); recipients
					 * of any other transport are accepted, audited */
	int log_decisions;	      /* default no: one mail-log line per decision of
				       * every front door (deferrals are always logged) */
	int socketmap_tlsrpt;	      /* default no: Postfix 3.10's TLSRPT attributes
				       * (policy_type, ...) in socketmap replies of MTA-STS
				       * destinations; Postfix < 3.10 defers on them */
	/* danepold: the inbound S/MIME signer check (smime/smime.h, doc/smime.md) */
	char *smime_listeners;	       /* default NULL (none: off): the {daemon_name} values
					* (master.cf -o milter_macro_daemon_name=) of the
					* smtpd listeners whose mail is checked */
	char *smime_authserv_id;       /* default NULL: the host name; Authentication-Results */
	unsigned smime_max_message;    /* default 10485760 bytes: larger mail is not checked */
	unsigned smime_max_depth;      /* default 8, 1..32: MIME nesting searched */
	unsigned smime_max_parts;      /* default 100, 2..10000: MIME entities looked at */
	unsigned smime_max_certs;      /* default 20, 1..200: certificates in one signature */
	unsigned smime_timeout_ms;     /* default 10s, 100ms..120s: one whole check */
	unsigned smime_ocsp_timeout_ms; /* default 5s, 100ms..60s: one OCSP request */
	int smime_ocsp_internal;       /* default no: never ask an OCSP responder on an
					* internal address (loopback, RFC 1918, ...) */
	int smime_on_temperror_tempfail; /* smime_on_temperror = accept (0, default) | tempfail */
	/* audit log */
	char *audit_log; /* default "-" (stdout); a path; or "none" -> NULL */
	int audit_sync;	 /* audit_sync = none (0) | flush (1, default) | fsync (2) */
	/* TLS outcomes: STARTTLS probe (danepold background, danepol probe) */
	int probe; /* default no: probe destinations danepold sees */
	unsigned
	    probe_interval_s; /* default 3600s, 60s..7d: re-probe a destination at most this often */
	unsigned
	    probe_step_timeout_ms; /* default 10s, 100ms..300s: connect, each SMTP reply, handshake */
	char *probe_helo;	   /* EHLO name, or NULL (none): the host name */
	int probe_defer; /* default no: defer (4.7.5) when every DANE host fails authentication */
	/* MTA-STS (RFC 8461) */
	int sts;		       /* default no: apply MTA-STS where DANE does not decide */
	char *sts_ca_file;	       /* CA bundle for policy hosts, or NULL: the system store */
	unsigned sts_fetch_timeout_ms; /* default 10s, 500ms..60s */
	unsigned sts_https_port;       /* default 443 */
	/* TLS outcomes: store and RFC 8460 reports */
	char *outcome_db; /* default "/var/lib/danepol/outcomes.db" (SQLite), a
			   * postgresql:// URI (shared by relays), or NULL */
	char *relay_name; /* this relay's name in a shared store, or NULL: the host name */
	unsigned outcome_queue_max;   /* default 100000: outcomes danepold holds while the store
				       * is down (more are dropped, counted and logged) */
	unsigned outcome_db_timeout_ms; /* default 5s: PostgreSQL connect and statement bound */
	char *local_db; /* with a PostgreSQL outcome_db, the SQLite file of what stays
			 * this relay's (report queue, applied MTA-STS policies, rollover
			 * history), or NULL: DANEPOL_STATE_DIR "/local.db" (store_local_path()) */
	char *postfix_log;	 /* Postfix mail log to read TLS outcomes from, or NULL (none) */
	char *report_org_name;	 /* RFC 8460 organization-name, or NULL (reports refused) */
	char *report_contact;	 /* RFC 8460 contact-info, or NULL (reports refused) */
	char *report_from;	 /* From: of mailed reports, or NULL (none) */
	char *report_dir;	 /* default "/var/lib/danepol/reports": report files */
	char *report_sendmail;	 /* default "/usr/sbin/sendmail" */
	unsigned report_retry_s; /* default 24h, 0..7d: how long to retry a report delivery */
	/* the operator's own DANE (own/): danepol selfcheck, rollover */
	char *selfcheck_domains;	     /* our own domains (words), or NULL */
	unsigned selfcheck_interval_s;	     /* default 0 (never), ..7d: danepold's self-check */
	char *selfcheck_cert_files;	     /* served chain files (words), or NULL: postconf */
	unsigned selfcheck_cert_warn_days;   /* default 21 */
	unsigned selfcheck_cert_crit_days;   /* default 7 */
	unsigned selfcheck_sig_warn_days;    /* default 7 */
	unsigned selfcheck_sig_crit_days;    /* default 2 */
	char *selfcheck_prometheus_file;     /* textfile-collector file, or NULL */
	unsigned rollover_ttls;		     /* default 2, 1..100: TTLs before a key switch */
	/* status table overrides */
	struct conf_status_override *status;
	size_t nstatus;
	unsigned *key_lines; /* per key of conf.c's table: the line that set it, 0: default
			      * (NULL for conf_defaults()); read with conf_key_line() */
};

/*
 * Default configuration file, used when it exists and no file is named:
 * DANEPOL_CONF_DIR (config.h, from configure's sysconfdir) "/danepol.conf",
 * "/etc/danepol/danepol.conf" with --sysconfdir=/etc. The default paths
 * of struct conf above come from config.h too (DANEPOL_SOCKET_DIR,
 * DANEPOL_RUN_DIR, DANEPOL_STATE_DIR); the comments give their values
 * for --sysconfdir=/etc --localstatedir=/var --runstatedir=/run and
 * the default --with-postfix-spool=/var/spool/postfix.
 */
#ifndef DANEPOL_CONF_FILE
#define DANEPOL_CONF_FILE DANEPOL_CONF_DIR "/danepol.conf"
#endif

/** A snapshot holding only defaults. Never fails. */
struct conf *conf_defaults(void);

/**
 * Load path over the defaults. Returns NULL with *err ("path:line: reason",
 * caller frees) on any error; a missing file is an error.
 */
struct conf *conf_load(const char *path, char **err);

/**
 * The configuration of a command or the daemon: path when not NULL (must
 * exist), else DANEPOL_CONF_FILE when it exists, else conf_defaults().
 * NULL with *err (caller frees) on error.
 */
struct conf *conf_load_default(const char *path, char **err);

/**
 * StrictModes for a file danepol reads its settings or policy from, open
 * as fd: refused when world-writable, or, when running as root, owned by
 * anyone but root. 0, or -1 with *err ("path: reason; what to do",
 * caller frees). Any thread.
 */
int conf_file_trusted(int fd, const char *path, char **err);

/** Same from text (name used in messages). */
struct conf *conf_parse(const char *text, const char *name, char **err);

/**
 * The line of c->path that set key (a name of the key table), or 0 when
 * the key has its default (or is no key): for messages about a value
 * that parsed but does not work ("file:line: policy_table: ...").
 */
unsigned conf_key_line(const struct conf *c, const char *key);

/** Print every effective setting as "key = value" lines (danepold -p). */
void conf_print(const struct conf *c, FILE *fp);

/** Print the commented sample danepol.conf: every key, its meaning, its default. */
void conf_print_sample(FILE *fp);

void conf_free(struct conf *c);

#endif
