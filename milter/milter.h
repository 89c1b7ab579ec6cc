/*
 * milter.h - danepold, the DANE policy milter: what its files share.
 *
 *   danepold.c     main(): options, configuration, start-up order, the
 *                  signal loop (reload, reopen, stop) and the libmilter
 *                  thread
 *   milter_proc.c  process plumbing: daemonize, pid file, privilege drop,
 *                  the ids unix sockets are created with
 *   milter_state.c the shared state: the current runtime snapshot
 *                  (refcounted holder, swapped on reload), the audit log,
 *                  session ids
 *   milter_cb.c    the libmilter callbacks and per-connection/per-message
 *                  state
 *   listener.c     the stream listener of the socketmap and Exim sockets
 *                  (listener.h)
 *   sockmap.c      the Postfix socketmap protocol (smtp_tls_policy_maps)
 *   exim.c         the Exim ${readsocket} line protocol
 *   proto.c        their pure parts: parsing and replies (proto.h)
 *
 * Snapshot rule: a transaction takes the snapshot (milter_snap_acquire)
 * when it starts and releases it when it ends, so a reload never changes
 * the runtime under a transaction in flight; the old runtime is freed by
 * whoever drops its last reference.
 */
#ifndef DANEPOL_MILTER_H
#define DANEPOL_MILTER_H

#include <stdio.h>
#include <sys/types.h>

#include "audit.h"
#include "conf.h"
#include "policy_run.h"

/* ------------------------------------------------------ milter_state.c */

/* A reference-counted holder of one runtime (the immutable snapshot). */
struct milter_snap {
	struct policy_runtime *rt;	/* owned: freed with the last reference */
	int refs;			/* guarded by the holder's mutex */
};

/** Make rt the current snapshot (ownership passes); the previous one is
 *  released and freed once no transaction holds it. */
void milter_snap_install(struct policy_runtime *rt);

/** Take a reference to the current snapshot (NULL before the first
 *  install or after shutdown). Release with milter_snap_release(). */
struct milter_snap *milter_snap_acquire(void);
void milter_snap_release(struct milter_snap *s);

/** Drop the current snapshot (at exit, after libmilter stopped). */
void milter_snap_shutdown(void);

/** The audit log used by the callbacks (NULL: no audit log). Set once
 *  before libmilter starts; the pointer stays valid until exit. */
void milter_audit_set(struct audit_log *a);
struct audit_log *milter_audit(void);

/** A fresh session id: 16 hex digits (start time, counter) into out[17]. */
void milter_session_id(char out[17]);

/** A new audit event object {"event": event, "time": now} (caller owns it). */
json_t *milter_event_new(const char *event);

/**
 * Write ev to the audit log with "decision" appended last: o->d's JSON
 * (policy_decision_json_append(), rendered once per decision), or the
 * JSON text none when o or o->d is NULL or rendering failed. Nothing is
 * rendered when there is no audit log (audit_log = none). Drops the
 * caller's reference to ev.
 */
void milter_audit_decision(json_t *ev, const struct policy_runtime *rt,
    const struct policy_outcome *o, const char *none);

/**
 * Add "cache_hit" and "elapsed_ms" of o to ev, then milter_audit_decision()
 * with null for a missing decision.
 */
void milter_event_finish(json_t *ev, const struct policy_runtime *rt,
    const struct policy_outcome *o);

/* ----------------------------------------------- sockmap.c and exim.c */

struct listener_conn;

/** Serve one socketmap connection (a listener_fn; arg unused). */
void sockmap_serve(struct listener_conn *c, void *arg);

/** Serve one Exim connection (a listener_fn; arg unused). */
void exim_serve(struct listener_conn *c, void *arg);

/* --------------------------------------------------------- milter_cb.c */

struct smfiDesc;

/** The filter description registered with smfi_register(). */
struct smfiDesc *milter_cb_desc(void);

/* ------------------------------------------------------- milter_proc.c */

/**
 * Fork into the background: double fork, setsid, chdir("/"), stdin and
 * (unless keep_stdout) stdout to /dev/null. The original process waits
 * for the daemon's start-up result and exits with it (see
 * milter_proc_ready()). Returns in the daemon only; -1 on failure.
 */
int milter_proc_daemonize(int keep_stdout);

/** Tell the waiting parent (if any) the start-up result: 0 = ready, else
 *  the exit status it should report. Then stderr goes to /dev/null. */
void milter_proc_ready(int status);

/**
 * Open or create the pid file and hold it locked (flock) until exit: the
 * lock, not the pid in it, says whether danepold runs. Never follows a
 * link or blocks on a FIFO (O_NOFOLLOW|O_NONBLOCK); refuses anything but
 * a regular file with one link, owned by us or daemon_uid ((uid_t)-1:
 * none), holding nothing or a pid. Start-up thread. Returns 0, or -1
 * after logging the reason (another danepold holds it, or the file is
 * not ours).
 */
int milter_proc_pidfile(const char *path, uid_t daemon_uid);

/** Unlink the pid file if path still names the file we hold; release it. */
void milter_proc_pidfile_remove(const char *path);

/*
 * Unix sockets are created with the ids they will belong to, so nothing
 * running as root ever touches a path in a directory the daemon user can
 * write (danepol issue 11): milter_proc_sockid_init() resolves the ids;
 * milter_proc_sock_enter() sets the umask to ~socket_mode and, as root,
 * the effective ids to user:socket_group (supplementary groups: that
 * group only; real and saved uid stay 0); the caller then removes a stale
 * socket, binds and calls milter_proc_socket_perms(); and
 * milter_proc_sock_leave() restores ids, groups and umask. Not a unix
 * spec, or not root: only the umask changes. Start-up thread only (the
 * umask and ids are process-wide), before other threads exist.
 */
struct milter_sockid {
	const char *spec;		/* borrowed */
	int is_unix;
	uid_t uid;			/* owner to create as; -1: ours */
	gid_t gid;			/* group to create as; -1: ours */
	mode_t mode;			/* socket_mode & 0777 */
	int entered, switched;		/* state between enter and leave */
	mode_t umask;
	gid_t egid;
	gid_t *groups;
	int ngroups;
};

/** For a unix spec, resolve group (NULL: uid's primary group). 0, or -1
 *  after logging (no such group). */
int milter_proc_sockid_init(struct milter_sockid *id, const char *spec, uid_t uid,
    const char *group, unsigned mode);

/** Take the socket's ids and umask. 0, or -1 after logging (all restored). */
int milter_proc_sock_enter(struct milter_sockid *id);

/** Restore ids, groups and umask. 0, or -1 after logging (root not regained). */
int milter_proc_sock_leave(struct milter_sockid *id);

/** Log "cannot listen on SPEC: strerror(err)" (err 0: unknown) with a
 *  hint on the ids. */
void milter_proc_sock_error(const struct milter_sockid *id, int err);

/**
 * Between enter and leave, after bind: check that the path holds a socket
 * of our effective uid (not a link, not a file swapped in) and fix group
 * and mode on that inode (O_PATH, never following a link) where the
 * directory overrode them. 0, or -1 after logging.
 */
int milter_proc_socket_perms(const struct milter_sockid *id);

/**
 * Look user up when running as root: *uid and *gid get its ids (both -1 when
 * not root: nothing will be dropped). Returns 0, or -1 after logging (no
 * such user, or the user is root).
 */
int milter_proc_lookup_user(const char *user, uid_t *uid, gid_t *gid);

/**
 * Drop root privileges to user/uid/gid (initgroups, setgid, setuid) and
 * verify that root cannot be regained. uid -1: nothing to do. Returns 0,
 * or -1 after logging.
 */
int milter_proc_drop(const char *user, uid_t uid, gid_t gid);

/* ---------------------------------- descriptor budget (milter_fds.c) */

/*
 * How danepold shares RLIMIT_NOFILE among its front doors (danepold(8),
 * "File descriptors"): the resolver up to half (dns/dns.c); each
 * socketmap/Exim listener listener_max connections plus its eviction
 * slack; fixed for the rest; the milter what remains - a milter
 * connection is accepted only while its descriptor number is below
 * milter.
 */
struct milter_fds {
	unsigned long limit;		/* RLIMIT_NOFILE (soft) */
	unsigned long dns;		/* the resolver's share */
	unsigned listener_max;		/* connections per socketmap/Exim listener */
	unsigned long listeners;	/* descriptors of all those listeners */
	unsigned long fixed;		/* everything else */
	unsigned long milter;		/* milter descriptors: numbers below this */
};

/** Work out the budget for nlisteners socketmap/Exim listeners from the
 *  current RLIMIT_NOFILE. Any thread; changes nothing. */
void milter_fds_plan(unsigned nlisteners, struct milter_fds *b);

/** Arm the milter budget in accept() (before smfi_main()). Any thread. */
void milter_fds_install(const struct milter_fds *b);

#endif
