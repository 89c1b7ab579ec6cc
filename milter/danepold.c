/*
 * danepold.c - main() of danepold, the DANE policy milter (danepold(8)).
 *
 *     danepold [-c FILE] [-f] [-n] [-p] [-v]... [-V]
 *
 * Start-up order: options; configuration (-c FILE, else
 * DANEPOL_CONF_FILE when it exists, else the built-in defaults); -n/-p
 * stop here; block the handled signals; daemonize unless -f; look up
 * the user; pid file (held locked until exit); open the sockets -
 * milter, socketmap, Exim, each unless "none" - (a unix socket with the
 * effective ids user:socket_group and a umask of ~socket_mode, so it is
 * born with its owner, group and mode and root never touches its path);
 * drop privileges; open the audit log; build the runtime (resolver,
 * policy table, status table, cache); make the outcome queue
 * (daemon_store.h: the database need not be up) and start the probe
 * threads (daemon_probe.h); start smfi_main() in its own thread
 * and the socketmap/Exim listeners (listener.h); log "danepold ready".
 * At stop: the milter first, then the listeners (each waits for its
 * connections to finish).
 *
 * Signals. libmilter's smfi_main() blocks SIGHUP, SIGTERM and SIGINT in
 * the thread that calls it and starts a thread that sigwait()s for them
 * and stops the milter on any of them (sendmail libmilter/signal.c,
 * mi_spawn_signal_thread). To keep SIGHUP as "reload", smfi_main() runs
 * in a thread of its own and the main thread - the thread-group leader -
 * never blocks the handled signals (handlers installed with SA_NODEFER
 * that only write the signal number to a self-pipe). Linux delivers a
 * process-directed signal to the leader whenever the leader can take it
 * (kernel/signal.c complete_signal), so libmilter's thread does not see
 * it; and because a thread blocked in sigwait() also counts as taking a
 * signal, libmilter's sigwait() call is bound to daemon_signals.c, which
 * leaves SIGHUP, SIGUSR1 and SIGUSR2 out of the set it waits for. SIGUSR2
 * is kept as an alias of SIGHUP.
 *   SIGHUP, SIGUSR2  reload configuration and policy table (new snapshot)
 *   SIGUSR1          reopen the audit log
 *   SIGTERM, SIGINT  stop (smfi_stop; sessions in flight finish)
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <syslog.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

#include "control.h"
#include "daemon_audit.h"
#include "daemon_check.h"
#include "daemon_fds.h"
#include "daemon_metrics.h"
#include "daemon_probe.h"
#include "daemon_selfcheck.h"
#include "daemon_shared.h"
#include "daemon_store.h"
#include "daemon_sts.h"
#include "daemon_proc.h"
#include "exim.h"
#include "log.h"
#include "mem.h"
#include "listener.h"
#include "milter.h"
#include "milter_smime.h"
#include "sts_fetch.h"
#include "policy_check.h"
#include "policy_run.h"
#include "snapshot.h"
#include "socketmap.h"
#include "stats.h"

/* Settings read once at start-up; a reload cannot change them. */
struct startup_settings {
	const char *conf_path;	/* -c, or NULL = default */
	char *milter_socket;	/* NULL: no milter */
	char *socketmap_socket; /* NULL: none */
	char *exim_socket;	/* NULL: none */
	char *control_socket;	/* NULL: none */
	char *metrics_socket;	/* NULL: none */
	char *user;
	char *socket_group;
	unsigned socket_mode;
	char *pid_file;
	char *audit_log;
	int audit_sync;
	unsigned socket_idle_ms;    /* socketmap/Exim: socket_idle_timeout */
	unsigned socket_request_ms; /* ... socket_request_timeout */
	unsigned milter_timeout_s;  /* smfi_settimeout() */
};

static int d_sigpipe[2] = { -1, -1 };
static atomic_int d_milter_rc = -1;	    /* smfi_main() result once it returned */
static struct listener *d_sockmap, *d_exim, *d_control; /* NULL when not configured */
static struct daemon_metrics *d_metrics;		     /* NULL when not configured */

static const int d_signals[] = { SIGHUP, SIGUSR1, SIGUSR2, SIGTERM, SIGINT };
#define D_NSIGNALS (sizeof(d_signals) / sizeof(d_signals[0]))
#define D_STOPPED  0 /* pipe byte: smfi_main() returned */
#define D_CONTROL_CONNS 8 /* control socket connections at once */

static void
d_usage(FILE *fp)
{
	fprintf(fp,
	    "usage: danepold [-c FILE] [-f] [-n] [-p] [-v]... [-V]\n"
	    "  -c FILE  configuration file (default %s if it exists)\n"
	    "  -f       stay in the foreground\n"
	    "  -n       check the configuration and exit (0 ok, 78 error, 69 resolver)\n"
	    "  -p       print the effective configuration and exit\n"
	    "  -v       more verbose diagnostics (repeatable)\n"
	    "  -V       print the version and exit\n"
	    "See danepold(8).\n",
	    DANEPOL_CONF_FILE);
}

/* danepold needs at least one socket to serve. */
static int
d_conf_sockets(const struct conf *c)
{
	if (c->milter_socket || c->socketmap_socket || c->exim_socket)
		return 0;
	msg_error("%s: milter_socket, socketmap_socket and exim_socket are all none: "
		  "danepold would serve nothing",
	    c->path);
	return -1;
}

/* Build a runtime from c (ownership passes): policy/policy_check.h. NULL with *ex set. */
static struct policy_runtime *
d_runtime(struct conf *c, int *ex)
{
	return policy_check_start(c, POLICY_CHECK_ANCHOR | POLICY_CHECK_DAEMON, d_conf_sockets, ex);
}

static void
startup_settings_init(struct startup_settings *f, const char *path, const struct conf *c)
{
	f->conf_path = path;
	f->milter_socket = xstrdup_null(c->milter_socket);
	f->socketmap_socket = xstrdup_null(c->socketmap_socket);
	f->exim_socket = xstrdup_null(c->exim_socket);
	f->control_socket = xstrdup_null(c->control_socket);
	f->metrics_socket = xstrdup_null(c->metrics_socket);
	f->user = xstrdup_null(c->user);
	f->socket_group = xstrdup_null(c->socket_group);
	f->socket_mode = c->socket_mode;
	f->pid_file = xstrdup_null(c->pid_file);
	f->audit_log = xstrdup_null(c->audit_log);
	f->audit_sync = c->audit_sync;
	f->socket_idle_ms = c->socket_idle_timeout_ms;
	f->socket_request_ms = c->socket_request_timeout_ms;
	f->milter_timeout_s = c->milter_timeout_s;
}

static void
startup_settings_free(struct startup_settings *f)
{
	free(f->milter_socket);
	free(f->socketmap_socket);
	free(f->exim_socket);
	free(f->control_socket);
	free(f->metrics_socket);
	free(f->user);
	free(f->socket_group);
	free(f->pid_file);
	free(f->audit_log);
}

static int
d_same(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

/* Warn about start-up settings a reload cannot change. */
static void
startup_settings_compare(const struct startup_settings *f, const struct conf *c)
{
	if (!d_same(f->milter_socket, c->milter_socket) || !d_same(f->user, c->user) ||
	    !d_same(f->socketmap_socket, c->socketmap_socket) ||
	    !d_same(f->exim_socket, c->exim_socket) || !d_same(f->socket_group, c->socket_group) ||
	    !d_same(f->control_socket, c->control_socket) ||
	    !d_same(f->metrics_socket, c->metrics_socket) ||
	    f->socket_mode != c->socket_mode || !d_same(f->pid_file, c->pid_file) ||
	    !d_same(f->audit_log, c->audit_log) || f->audit_sync != c->audit_sync ||
	    f->socket_idle_ms != c->socket_idle_timeout_ms ||
	    f->socket_request_ms != c->socket_request_timeout_ms ||
	    f->milter_timeout_s != c->milter_timeout_s)
		msg_warn("%s: milter_socket, socketmap_socket, exim_socket, control_socket, "
			 "metrics_socket, user, socket_group, "
			 "socket_mode, pid_file, audit_log, audit_sync, socket_idle_timeout, "
			 "socket_request_timeout and milter_timeout take effect only after a "
			 "restart",
		    c->path);
}

/* SIGHUP/SIGUSR2: build a new snapshot; on any error keep the old one. */
static void
d_reload(const struct startup_settings *f)
{
	struct policy_runtime *rt;
	struct conf *c;
	int ex;

	if ((c = policy_check_load(f->conf_path)) == NULL) {
		msg_error("reload failed: keeping the running configuration");
		stats_add(STATS_RELOADS_FAILED, 1);
		return;
	}
	startup_settings_compare(f, c);
	if ((rt = d_runtime(c, &ex)) == NULL) {
		msg_error("reload failed: keeping the running configuration");
		stats_add(STATS_RELOADS_FAILED, 1);
		return;
	}
	msg_info("configuration reloaded from %s", rt->conf->path);
	daemon_sts_attach(rt);
	snapshot_install(rt);
	stats_add(STATS_RELOADS_OK, 1);
}

/* ------------------------------------------------------------ signals */

static void
d_on_signal(int sig)
{
	int saved = errno;
	unsigned char b = (unsigned char)sig;

	if (write(d_sigpipe[1], &b, 1) < 0) {
		/* pipe full: a signal of this kind is already queued */
	}
	errno = saved;
}

/* Block the handled signals (every thread started later inherits this)
 * and make the self-pipe. */
static int
d_signals_block(void)
{
	sigset_t set;

	if (pipe2(d_sigpipe, O_CLOEXEC | O_NONBLOCK) < 0) {
		msg_error("pipe: %m");
		return -1;
	}
	sigemptyset(&set);
	for (size_t i = 0; i < D_NSIGNALS; i++)
		sigaddset(&set, d_signals[i]);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

/* Main thread only, after all threads exist: handlers on, signals unblocked. */
static void
d_signals_take(void)
{
	struct sigaction sa;
	sigset_t set;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = d_on_signal;
	sa.sa_flags = SA_NODEFER | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigemptyset(&set);
	for (size_t i = 0; i < D_NSIGNALS; i++) {
		sigaction(d_signals[i], &sa, NULL);
		sigaddset(&set, d_signals[i]);
	}
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
}

static void *
d_milter_thread(void *arg)
{
	unsigned char b = D_STOPPED;

	atomic_store(&d_milter_rc, smfi_main());
	/* Wake the main thread; the pipe is drained by it, so this fits. */
	if (write(d_sigpipe[1], &b, 1) < 0)
		msg_error("cannot wake the main thread: %m");
	return NULL;
}

/* The main thread's loop: one byte per signal. Returns when stopped. */
static void
d_signal_loop(const struct startup_settings *f)
{
	unsigned char b;
	ssize_t n;
	int stopping = 0;

	for (;;) {
		struct pollfd pfd = { .fd = d_sigpipe[0], .events = POLLIN };

		if (poll(&pfd, 1, -1) < 0 && errno != EINTR) {
			msg_error("poll: %m");
			return;
		}
		n = read(d_sigpipe[0], &b, 1);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			return;
		switch (b) {
		case SIGHUP:
		case SIGUSR2:
			d_reload(f);
			break;
		case SIGUSR1:
			audit_reopen(daemon_audit());
			break;
		case SIGTERM:
		case SIGINT:
			if (!stopping) {
				msg_info("stopping (signal %d): sessions in flight finish", b);
				if (f->milter_socket == NULL)
					return; /* no milter thread to wait for */
				smfi_stop();
				stopping = 1;
			}
			break;
		case D_STOPPED:
			return;
		default:
			break;
		}
	}
}

/* ------------------------------------------------------------ start-up */

struct d_opts {
	const char *conf_path;
	int foreground, check, print;
};

/* Returns -1 to go on, else the exit status. */
static int
d_options(int argc, char **argv, struct d_opts *o)
{
	int ch;

	opterr = 0;
	while ((ch = getopt(argc, argv, ":c:fnpvVh")) != -1) {
		switch (ch) {
		case 'c':
			o->conf_path = optarg;
			break;
		case 'f':
			o->foreground = 1;
			break;
		case 'n':
			o->check = 1;
			break;
		case 'p':
			o->print = 1;
			break;
		case 'v':
			msg_verbose++;
			break;
		case 'V':
			printf("danepold (%s) %s\n", PACKAGE_NAME, PACKAGE_VERSION);
			return EX_OK;
		case 'h':
			d_usage(stdout);
			return EX_OK;
		case ':':
			msg_error("option -%c needs an argument", optopt);
			d_usage(stderr);
			return EX_USAGE;
		default:
			msg_error("unknown option -%c", optopt);
			d_usage(stderr);
			return EX_USAGE;
		}
	}
	if (optind < argc) {
		msg_error("unexpected argument %.64s", argv[optind]);
		d_usage(stderr);
		return EX_USAGE;
	}
	return -1;
}

/* Open the milter socket as configured, a unix one with the ids and mode
 * it will have (daemon_proc_sock_enter(): libmilter removes a stale
 * socket and binds as user:socket_group, never as root). */
static int
d_milter_open(const struct startup_settings *f, uid_t uid)
{
	struct daemon_sockid id;
	int rc, err;

	if (daemon_proc_sockid_init(&id, f->milter_socket, uid, f->socket_group, f->socket_mode) <
	    0)
		return -1;
	if (smfi_setconn(f->milter_socket) != MI_SUCCESS ||
	    smfi_settimeout((int)f->milter_timeout_s) != MI_SUCCESS ||
	    smfi_register(*milter_desc()) != MI_SUCCESS) {
		msg_error("libmilter rejected the socket %s", f->milter_socket);
		return -1;
	}
	if (daemon_proc_sock_enter(&id) < 0)
		return -1;
	errno = 0;
	rc = smfi_opensocket(1) == MI_SUCCESS ? 0 : -1;
	err = errno;
	if (rc < 0)
		daemon_proc_sock_error(&id, err); /* 0: libmilter logged why */
	else
		rc = daemon_proc_socket_perms(&id);
	if (daemon_proc_sock_leave(&id) < 0)
		rc = -1;
	return rc;
}

/* Open every configured socket (before the privilege drop). */
static int
d_socket_open(const struct startup_settings *f, uid_t uid)
{
	if (f->milter_socket && d_milter_open(f, uid) < 0)
		return -1;
	if (f->socketmap_socket &&
	    (d_sockmap = listener_open(f->socketmap_socket, "socketmap", uid, f->socket_group,
		 f->socket_mode)) == NULL)
		return -1;
	if (f->exim_socket &&
	    (d_exim = listener_open(f->exim_socket, "exim", uid, f->socket_group,
		 f->socket_mode)) == NULL)
		return -1;
	if (f->control_socket &&
	    (d_control = listener_open(f->control_socket, "control", uid, f->socket_group,
		 f->socket_mode)) == NULL)
		return -1;
	if (f->metrics_socket &&
	    (d_metrics = daemon_metrics_open(f->metrics_socket, uid, f->socket_group,
		 f->socket_mode)) == NULL)
		return -1;
	return 0;
}

/*
 * Share the descriptors (daemon_fds.h, danepold(8) "File descriptors"): arm
 * the milter budget, then start the socketmap and Exim listeners with
 * theirs (the runtime is installed).
 */
static int
d_listeners_start(const struct startup_settings *f)
{
	struct listener_limits lim = { 0, f->socket_idle_ms, f->socket_request_ms };
	struct daemon_fds b;

	daemon_fds_plan((d_sockmap != NULL) + (d_exim != NULL), &b);
	lim.max_conns = b.listener_max;
	if (f->milter_socket)
		daemon_fds_install(&b);
	msg_info("descriptors: %lu (RLIMIT_NOFILE): resolver %lu, socketmap/Exim %u connections "
		 "each, milter below descriptor %lu%s",
	    b.limit, b.dns, b.listener_max, b.milter, f->milter_socket ? "" : " (no milter)");
	if (d_sockmap && listener_start(d_sockmap, socketmap_serve, NULL, &lim) < 0)
		return -1;
	if (d_exim && listener_start(d_exim, exim_serve, NULL, &lim) < 0)
		return -1;
	/* The control socket: an operator's few connections, not the budget's. */
	lim.max_conns = D_CONTROL_CONNS;
	if (d_control && listener_start(d_control, control_serve, NULL, &lim) < 0)
		return -1;
	if (d_metrics && daemon_metrics_start(d_metrics) < 0)
		return -1;
	return 0;
}

/* Stop the listeners: no new connections, the open ones finish. */
static void
d_listeners_stop(void)
{
	listener_stop(d_sockmap);
	listener_stop(d_exim);
	listener_stop(d_control);
	daemon_metrics_stop(d_metrics);
	d_sockmap = d_exim = d_control = NULL;
	d_metrics = NULL;
}

/* "inet:... (the milter), socketmap unix:..., exim unix:..." for the ready line. */
static char *
d_sockets_text(const struct startup_settings *f)
{
	return xasprintf("%s%s%s%s%s%s%s%s%s", f->milter_socket ? f->milter_socket : "",
	    f->socketmap_socket ? (f->milter_socket ? ", socketmap " : "socketmap ") : "",
	    f->socketmap_socket ? f->socketmap_socket : "",
	    f->exim_socket ? (f->milter_socket || f->socketmap_socket ? ", exim " : "exim ") : "",
	    f->exim_socket ? f->exim_socket : "", f->control_socket ? ", control " : "",
	    f->control_socket ? f->control_socket : "", f->metrics_socket ? ", metrics " : "",
	    f->metrics_socket ? f->metrics_socket : "");
}

/* Everything between the configuration and "ready"; returns 0 or an exit status. */
static int
d_start(const struct startup_settings *f, struct conf *c, int foreground, int *pid_made)
{
	struct policy_runtime *rt;
	struct audit_log *a = NULL;
	char *err = NULL;
	uid_t uid;
	gid_t gid;
	int ex;

	if (!foreground &&
	    daemon_proc_daemonize(f->audit_log && strcmp(f->audit_log, "-") == 0) < 0)
		goto os_error;
	if (daemon_proc_lookup_user(f->user, &uid, &gid) < 0) {
		conf_free(c);
		return EX_CONFIG;
	}
	if (f->pid_file) {
		if (daemon_proc_pidfile(f->pid_file, uid) < 0)
			goto os_error;
		*pid_made = 1;
	}
	if (d_socket_open(f, uid) < 0 || daemon_proc_drop(f->user, uid, gid) < 0)
		goto os_error;
	if (f->audit_log &&
	    (a = audit_open(f->audit_log, (enum audit_sync)f->audit_sync, &err)) == NULL) {
		msg_error("%s", err);
		free(err);
		goto os_error;
	}
	daemon_audit_set(a);
	if ((rt = d_runtime(c, &ex)) == NULL)
		return ex;
	daemon_shared_start(rt->conf);
	daemon_sts_attach(rt);
	snapshot_install(rt);
	if (daemon_store_start(rt->conf) < 0 || daemon_probe_start(rt->conf) < 0 ||
	    daemon_selfcheck_start() < 0)
		return EX_OSERR;
	if (d_listeners_start(f) < 0)
		return EX_OSERR;
	return 0;
os_error:
	conf_free(c);
	return EX_OSERR;
}

/* -n and -p: nothing is opened, no signal touched; -n also checks what
 * start-up needs from the system (daemon_check.h) and, run by another
 * user than root, that outcome_db can be opened when needed. */
static int
d_check_only(struct conf *c, const struct d_opts *o)
{
	struct policy_runtime *rt;
	int ex = EX_OK, sys_ex;

	if (o->print) {
		conf_print(c, stdout);
		conf_free(c);
		return fflush(stdout) == 0 ? EX_OK : EX_OSERR;
	}
	/* Before the runtime: no thread may exist when it forks (daemon_check.h). */
	sys_ex = daemon_check_system(c);
	if ((rt = d_runtime(c, &ex)) == NULL)
		return ex;
	/* Not as root: root's access(2) says nothing about the daemon's user.
	 * The unit's ExecStartPre= runs -n as that user, in its sandbox. */
	if (geteuid() != 0 && daemon_store_check(rt->conf) < 0)
		ex = EX_OSERR;
	else if ((ex = sys_ex) == EX_OK)
		printf("%s: configuration OK\n", rt->conf->path);
	policy_run_free(rt);
	return ex;
}

/**
 * main - see the file head. Exit status: 0 clean stop, 64 usage, 69
 * resolver unavailable, 71 OS error (socket, pid file, privileges), 78
 * configuration error.
 */
int
main(int argc, char **argv)
{
	struct d_opts o = { NULL, 0, 0, 0 };
	struct startup_settings f;
	struct conf *c;
	pthread_t tid;
	char *socks;
	int ex, pid_made = 0;

	msg_init("danepold");
	if ((ex = d_options(argc, argv, &o)) >= 0)
		return ex;
	if ((c = policy_check_load(o.conf_path)) == NULL)
		return EX_CONFIG;
	if (o.check || o.print)
		return d_check_only(c, &o);
	startup_settings_init(&f, o.conf_path, c);
	if (sts_fetch_global_init() < 0) { /* libcurl (MTA-STS, OCSP), before any thread */
		msg_error("libcurl could not be initialised");
		ex = EX_SOFTWARE;
		goto out;
	}
	if (d_signals_block() < 0) {
		ex = EX_OSERR;
		goto out;
	}
	if ((ex = d_start(&f, c, o.foreground, &pid_made)) != 0)
		goto out;
	if (f.milter_socket && (ex = pthread_create(&tid, NULL, d_milter_thread, NULL)) != 0) {
		msg_error("cannot start the milter thread: %s", strerror(ex));
		ex = EX_OSERR;
		goto out;
	}
	d_signals_take();
	socks = d_sockets_text(&f);
	msg_info("danepold ready: listening on %s, pid %ld", socks, (long)getpid());
	free(socks);
	daemon_proc_ready(0);
	if (!o.foreground) /* start-up errors went to the caller's stderr */
		msg_open_syslog(LOG_MAIL);
	d_signal_loop(&f);
	if (f.milter_socket) {
		smfi_stop();
		pthread_join(tid, NULL);
	}
	d_listeners_stop();
	if (ex == 0 && f.milter_socket && atomic_load(&d_milter_rc) != MI_SUCCESS) {
		msg_error("the milter library stopped with an error");
		ex = EX_SOFTWARE;
	}
	msg_info("stopped");
out:
	daemon_proc_ready(ex);
	d_listeners_stop();
	daemon_selfcheck_stop();
	daemon_probe_stop();
	snapshot_shutdown();
	milter_smime_shutdown();
	daemon_sts_stop();
	daemon_store_stop(); /* after every producer of outcomes */
	daemon_shared_stop();
	audit_close(daemon_audit());
	daemon_audit_set(NULL);
	if (pid_made)
		daemon_proc_pidfile_remove(f.pid_file);
	startup_settings_free(&f);
	return ex;
}
