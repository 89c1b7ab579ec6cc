/*
 * daemon_check.c - danepold -n's check of the system start-up needs
 * (contract and method in daemon_check.h). Main thread, before any other
 * thread exists.
 */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include "daemon_check.h"
#include "log.h"
#include "mem.h"

/* "FILE:LINE: key = value" (LINE "(default)" for a default) into buf. */
static void
where(const struct conf *c, const char *key, const char *value, char *buf, size_t n)
{
	unsigned line = conf_key_line(c, key);

	if (line)
		snprintf(buf, n, "%s:%u: %s = %.255s", c->path, line, key, value);
	else
		snprintf(buf, n, "%s: %s = %.255s (default)", c->path, key, value);
}

/* The directory of path (absolute) into dir. */
static void
dir_of(const char *path, char *dir, size_t n)
{
	const char *slash = strrchr(path, '/');
	size_t len = slash == NULL ? 1 : slash == path ? 1 : (size_t)(slash - path);

	if (slash == NULL || len >= n) {
		snprintf(dir, n, ".");
		return;
	}
	memcpy(dir, slash == path ? "/" : path, len);
	dir[len] = 0;
}

/* The path of a "unix:PATH" / "local:PATH" spec, or NULL. */
static const char *
unix_path(const char *spec)
{
	if (spec && strncmp(spec, "unix:", 5) == 0)
		return spec + 5;
	if (spec && strncmp(spec, "local:", 6) == 0)
		return spec + 6;
	return NULL;
}

/*
 * One path the daemon's user writes: its directory must let it create
 * files (and, with file set, an existing file must be writable).
 * must: 1 error, 0 warning only. Returns 1 when an error was logged.
 */
static int
check_path(const struct conf *c, const char *key, const char *value, const char *path,
    const char *who, int file, int must)
{
	char w[600], dir[PATH_MAX], eb[128], msg[PATH_MAX * 2 + 1024];
	struct stat st;

	where(c, key, value, w, sizeof(w));
	dir_of(path, dir, sizeof(dir));
	if (stat(dir, &st) < 0) {
		msg_warn("%s: directory %s: %s: start-up fails unless it is made first "
			 "(systemd: RuntimeDirectory=/StateDirectory=, tmpfiles.d)",
		    w, dir, strerror_r(errno, eb, sizeof(eb)));
		return 0;
	}
	if (!S_ISDIR(st.st_mode)) {
		msg_error("%s: %s is not a directory", w, dir);
		return 1;
	}
	if (file && access(path, F_OK) == 0) {
		if (access(path, W_OK) == 0)
			return 0;
		snprintf(msg, sizeof(msg), "%s: %s may not write %s: %s; chown or chmod it", w, who,
		    path, strerror_r(errno, eb, sizeof(eb)));
	} else if (access(dir, W_OK | X_OK) == 0) {
		return 0;
	} else {
		snprintf(msg, sizeof(msg),
		    "%s: %s may not create files in %s: %s; chown it to %s "
		    "or set %s",
		    w, who, dir, strerror_r(errno, eb, sizeof(eb)), c->user, key);
	}
	if (must)
		msg_error("%s", msg);
	else
		msg_warn("%s", msg);
	return must;
}

/* Every path check as the current identity; the number of errors. */
static int
check_paths(const struct conf *c, const char *who)
{
	static const char *const socks[] = { "milter_socket", "socketmap_socket", "exim_socket" };
	const char *specs[] = { c->milter_socket, c->socketmap_socket, c->exim_socket };
	char dir[PATH_MAX], w[600];
	struct stat st;
	int bad = 0;

	for (size_t i = 0; i < 3; i++) {
		const char *p = unix_path(specs[i]);

		if (p)
			bad += check_path(c, socks[i], specs[i], p, who, 0, 1);
	}
	if (c->audit_log && strcmp(c->audit_log, "-") != 0)
		bad += check_path(c, "audit_log", c->audit_log, c->audit_log, who, 1, 1);
	if (c->outcome_db && (c->probe || c->exim_socket))
		bad += check_path(c, "outcome_db", c->outcome_db, c->outcome_db, who, 1, 1);
	if (c->pid_file) {
		/* root opens it, user removes it at exit: only a warning */
		dir_of(c->pid_file, dir, sizeof(dir));
		if (stat(dir, &st) == 0)
			check_path(c, "pid_file", c->pid_file, c->pid_file, who, 0, 0);
		else {
			where(c, "pid_file", c->pid_file, w, sizeof(w));
			msg_warn("%s: directory %s does not exist: start-up fails unless it is "
				 "made first (systemd: RuntimeDirectory=)",
			    w, dir);
		}
	}
	return bad;
}

/* user's ids into *uid, *gid: 0, or -1 after logging why. */
static int
check_user(const struct conf *c, uid_t *uid, gid_t *gid)
{
	struct passwd pw, *pwp = NULL;
	char buf[16384], w[600];

	where(c, "user", c->user, w, sizeof(w));
	if (getpwnam_r(c->user, &pw, buf, sizeof(buf), &pwp) != 0 || pwp == NULL) {
		msg_error("%s: no such user; create it (adduser --system %.64s) or set user", w,
		    c->user);
		return -1;
	}
	if (pw.pw_uid == 0) {
		msg_error("%s: refusing to run as root; set user to an unprivileged user", w);
		return -1;
	}
	*uid = pw.pw_uid;
	*gid = pw.pw_gid;
	return 0;
}

static int
check_group(const struct conf *c)
{
	struct group gr, *grp = NULL;
	char buf[16384], w[600];

	if (c->socket_group == NULL)
		return 0;
	if (getgrnam_r(c->socket_group, &gr, buf, sizeof(buf), &grp) == 0 && grp != NULL)
		return 0;
	where(c, "socket_group", c->socket_group, w, sizeof(w));
	msg_error("%s: no such group; install the MTA first or set socket_group", w);
	return -1;
}

/** daemon_check_system - see daemon_check.h. */
int
daemon_check_system(const struct conf *c)
{
	char who[128];
	uid_t uid;
	gid_t gid;
	pid_t pid;
	int st, ex = EX_OK;

	if (check_group(c) < 0)
		ex = EX_CONFIG;
	if (geteuid() != 0) {
		snprintf(who, sizeof(who), "uid %ld", (long)geteuid());
		return check_paths(c, who) ? EX_OSERR : ex;
	}
	if (check_user(c, &uid, &gid) < 0)
		return EX_CONFIG;
	snprintf(who, sizeof(who), "user %.64s", c->user);
	if ((pid = fork()) < 0) {
		msg_error("fork: %m");
		return EX_OSERR;
	}
	if (pid == 0) {
		if (initgroups(c->user, gid) < 0 || setgid(gid) < 0 || setuid(uid) < 0) {
			msg_error("cannot take the identity of user %.64s: %m", c->user);
			_exit(2);
		}
		_exit(check_paths(c, who) ? 1 : 0);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR) {
			msg_error("waitpid: %m");
			return EX_OSERR;
		}
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return EX_OSERR;
	return ex;
}
