/*
 * daemon_proc.h - danepold's process plumbing (daemon_proc.c):
 * daemonizing, the pid file, the ids unix sockets are created with, the
 * privilege drop. Start-up thread only, before other threads
 * exist, unless a function says otherwise.
 */
#ifndef DANEPOL_MILTER_DAEMON_PROC_H
#define DANEPOL_MILTER_DAEMON_PROC_H

#include <sys/types.h>

/**
 * Fork into the background: double fork, setsid, chdir("/"), stdin and
 * (unless keep_stdout) stdout to /dev/null. The original process waits
 * for the daemon's start-up result and exits with it (see
 * daemon_proc_ready()). Returns in the daemon only; -1 on failure.
 */
int daemon_proc_daemonize(int keep_stdout);

/** Tell the waiting parent (if any) the start-up result: 0 = ready, else
 *  the exit status it should report. Then stderr goes to /dev/null. */
void daemon_proc_ready(int status);

/**
 * Open or create the pid file and hold it locked (flock) until exit: the
 * lock, not the pid in it, says whether danepold runs. Never follows a
 * link or blocks on a FIFO (O_NOFOLLOW|O_NONBLOCK); refuses anything but
 * a regular file with one link, owned by us or daemon_uid ((uid_t)-1:
 * none), holding nothing or a pid. Start-up thread. Returns 0, or -1
 * after logging the reason (another danepold holds it, or the file is
 * not ours).
 */
int daemon_proc_pidfile(const char *path, uid_t daemon_uid);

/** Unlink the pid file if path still names the file we hold; release it. */
void daemon_proc_pidfile_remove(const char *path);

/*
 * Unix sockets are created with the ids they will belong to, so nothing
 * running as root ever touches a path in a directory the daemon user can
 * write (danepol issue 11): daemon_proc_sockid_init() resolves the ids;
 * daemon_proc_sock_enter() sets the umask to ~socket_mode and, as root,
 * the effective ids to user:socket_group (supplementary groups: that
 * group only; real and saved uid stay 0); the caller then removes a stale
 * socket, binds and calls daemon_proc_socket_perms(); and
 * daemon_proc_sock_leave() restores ids, groups and umask. Not a unix
 * spec, or not root: only the umask changes. Start-up thread only (the
 * umask and ids are process-wide), before other threads exist.
 */
struct daemon_sockid {
	const char *spec; /* borrowed */
	int is_unix;
	uid_t uid;	       /* owner to create as; -1: ours */
	gid_t gid;	       /* group to create as; -1: ours */
	mode_t mode;	       /* socket_mode & 0777 */
	int entered, switched; /* state between enter and leave */
	mode_t umask;
	gid_t egid;
	gid_t *groups;
	int ngroups;
};

/** For a unix spec, resolve group (NULL: uid's primary group). 0, or -1
 *  after logging (no such group). */
int daemon_proc_sockid_init(struct daemon_sockid *id, const char *spec, uid_t uid,
    const char *group, unsigned mode);

/** Take the socket's ids and umask. 0, or -1 after logging (all restored). */
int daemon_proc_sock_enter(struct daemon_sockid *id);

/** Restore ids, groups and umask. 0, or -1 after logging (root not regained). */
int daemon_proc_sock_leave(struct daemon_sockid *id);

/** Log "cannot listen on SPEC: strerror(err)" (err 0: unknown) with a
 *  hint on the ids. */
void daemon_proc_sock_error(const struct daemon_sockid *id, int err);

/**
 * Between enter and leave, after bind: check that the path holds a socket
 * of our effective uid (not a link, not a file swapped in) and fix group
 * and mode on that inode (O_PATH, never following a link) where the
 * directory overrode them. 0, or -1 after logging.
 */
int daemon_proc_socket_perms(const struct daemon_sockid *id);

/**
 * Look user up when running as root: *uid and *gid get its ids (both -1 when
 * not root: nothing will be dropped). Returns 0, or -1 after logging (no
 * such user, or the user is root).
 */
int daemon_proc_lookup_user(const char *user, uid_t *uid, gid_t *gid);

/**
 * Drop root privileges to user/uid/gid (initgroups, setgid, setuid) and
 * verify that root cannot be regained. uid -1: nothing to do. Returns 0,
 * or -1 after logging.
 */
int daemon_proc_drop(const char *user, uid_t uid, gid_t gid);

#endif
