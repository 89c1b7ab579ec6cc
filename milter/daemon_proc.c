/*
 * daemon_proc.c - danepold's process plumbing (contract in daemon_proc.h):
 * daemonizing with a start-up status pipe, the pid file, the ids under
 * which unix sockets are created, and the privilege drop.
 *
 * Pid file: opened O_NOFOLLOW|O_NONBLOCK, accepted only as a regular file
 * with one link, ours or the daemon user's, empty or holding a pid; held
 * with flock(LOCK_EX) until exit (proc_pid_fd), so liveness never depends
 * on what the file says. Removed at stop only while path names that file.
 *
 * Sockets: between daemon_proc_sock_enter() and _leave() the process has
 * the socket's ids as its effective ids (root keeps the real and saved
 * uid, to drop for good later), so a path the daemon user controls is
 * only ever touched with the daemon user's rights (danepol issue 11).
 *
 * Daemonize: the original process forks, the child calls setsid() and
 * forks again (so the daemon can never reacquire a terminal); the
 * original waits on a pipe for one status byte from the daemon
 * (daemon_proc_ready) and exits with it, so `danepold` without -f fails
 * visibly when start-up fails and returns only once the socket listens.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include "daemon_proc.h"
#include "log.h"
#include "mem.h"

static int proc_ready_fd = -1; /* write end of the status pipe, daemon side */
static int proc_pid_fd = -1;   /* the pid file, flock()ed while we run */

static int
proc_devnull(int fd, int flags)
{
	int n = open("/dev/null", flags | O_CLOEXEC);

	if (n < 0)
		return -1;
	if (n != fd) {
		if (dup2(n, fd) < 0) {
			close(n);
			return -1;
		}
		close(n);
	}
	return 0;
}

/* In the original process: wait for the daemon's status byte and exit. */
static void
proc_wait_ready(int rfd, pid_t child)
{
	unsigned char st = EX_SOFTWARE;
	ssize_t n;

	do
		n = read(rfd, &st, 1);
	while (n < 0 && errno == EINTR);
	waitpid(child, NULL, 0); /* the intermediate child exits at once */
	if (n != 1)
		msg_error("danepold exited during start-up");
	_exit(n == 1 ? st : EX_SOFTWARE);
}

int
daemon_proc_daemonize(int keep_stdout)
{
	int pfd[2];
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC) < 0) {
		msg_error("pipe: %m");
		return -1;
	}
	if ((pid = fork()) < 0) {
		msg_error("fork: %m");
		return -1;
	}
	if (pid > 0) {
		close(pfd[1]);
		proc_wait_ready(pfd[0], pid);
	}
	close(pfd[0]);
	if (setsid() < 0)
		_exit(EX_OSERR);
	if ((pid = fork()) < 0)
		_exit(EX_OSERR);
	if (pid > 0)
		_exit(0);
	proc_ready_fd = pfd[1];
	if (chdir("/") < 0 || proc_devnull(STDIN_FILENO, O_RDONLY) < 0 ||
	    (!keep_stdout && proc_devnull(STDOUT_FILENO, O_WRONLY) < 0)) {
		msg_error("cannot detach: %m");
		return -1;
	}
	return 0;
}

void
daemon_proc_ready(int status)
{
	unsigned char st = (unsigned char)status;

	if (proc_ready_fd < 0)
		return;
	if (write(proc_ready_fd, &st, 1) != 1) {
		/* the parent is gone: nobody to tell */
	}
	close(proc_ready_fd);
	proc_ready_fd = -1;
	if (status == 0)
		proc_devnull(STDERR_FILENO, O_WRONLY);
}

/* 1 when text (n bytes) is empty or one pid line ("123" or "123\n"). */
static int
proc_pid_text(const char *text, size_t n)
{
	size_t i = 0;

	if (n > 0 && text[n - 1] == '\n')
		n--;
	while (i < n && text[i] >= '0' && text[i] <= '9')
		i++;
	return i == n && n <= 10;
}

/*
 * Open path for the pid file without ever following a link, blocking on a
 * FIFO or trusting what a less privileged user left there: a regular file
 * with one link, owned by us or by the daemon user, holding nothing or a
 * pid. -1 after logging why.
 */
static int
proc_pid_open(const char *path, uid_t daemon_uid)
{
	char text[32];
	struct stat st;
	ssize_t n;
	int fd;

	fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, 0644);
	if (fd < 0) {
		if (errno == ELOOP)
			msg_error("pid_file %s: a symbolic link: not following it; remove it "
				  "or set pid_file",
			    path);
		else
			msg_error("pid_file %s: %m", path);
		return -1;
	}
	if (fstat(fd, &st) < 0) {
		msg_error("pid_file %s: %m", path);
		goto fail;
	}
	if (!S_ISREG(st.st_mode) || st.st_nlink != 1) {
		msg_error("pid_file %s: not a regular file%s; remove it or set pid_file", path,
		    S_ISREG(st.st_mode) ? " with one link" : "");
		goto fail;
	}
	if (st.st_uid != geteuid() && (daemon_uid == (uid_t)-1 || st.st_uid != daemon_uid)) {
		msg_error("pid_file %s: owned by uid %ld, not by danepold; remove it or set "
			  "pid_file",
		    path, (long)st.st_uid);
		goto fail;
	}
	n = pread(fd, text, sizeof(text), 0);
	if (n < 0 || !proc_pid_text(text, (size_t)n)) {
		msg_error("pid_file %s: holds something else than a pid; remove it or set "
			  "pid_file",
		    path);
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return -1;
}

int
daemon_proc_pidfile(const char *path, uid_t daemon_uid)
{
	char text[32];
	int fd, len;

	if ((fd = proc_pid_open(path, daemon_uid)) < 0)
		return -1;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int err = errno;
		char eb[128];

		len = (int)pread(fd, text, sizeof(text) - 1, 0);
		text[len > 0 ? len : 0] = 0;
		text[strcspn(text, "\n")] = 0;
		if (err == EWOULDBLOCK)
			msg_error("pid_file %s: danepold already runs as pid %s", path,
			    *text ? text : "(unknown)");
		else
			msg_error("pid_file %s: flock: %s", path, strerror_r(err, eb, sizeof(eb)));
		close(fd);
		return -1;
	}
	if ((len = (int)pread(fd, text, sizeof(text) - 1, 0)) > 0) {
		text[len] = 0;
		text[strcspn(text, "\n")] = 0;
		msg_warn("pid_file %s is stale (pid %s, no process holds its lock): replacing it",
		    path, text);
	}
	len = snprintf(text, sizeof(text), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, text, (size_t)len, 0) != len) {
		msg_error("pid_file %s: write: %m", path);
		close(fd);
		return -1;
	}
	proc_pid_fd = fd; /* held, and so locked, until exit */
	return 0;
}

void
daemon_proc_pidfile_remove(const char *path)
{
	struct stat ours, now;

	if (path == NULL || proc_pid_fd < 0)
		return;
	/* Only the file we hold locked, if path still names it. */
	if (fstat(proc_pid_fd, &ours) == 0 && lstat(path, &now) == 0 && ours.st_dev == now.st_dev &&
	    ours.st_ino == now.st_ino && unlink(path) < 0)
		msg_warn("pid_file %s: cannot remove: %m", path);
	close(proc_pid_fd);
	proc_pid_fd = -1;
}

/* The path of a "unix:PATH" / "local:PATH" spec, or NULL. */
static const char *
proc_unix_path(const char *spec)
{
	if (strncmp(spec, "unix:", 5) == 0)
		return spec + 5;
	if (strncmp(spec, "local:", 6) == 0)
		return spec + 6;
	return NULL;
}

/* The gid named group, or the primary gid of uid (group NULL), or -1. */
static int
proc_sock_gid(const char *group, uid_t uid, gid_t *gid)
{
	struct group gr, *grp = NULL;
	struct passwd pw, *pwp = NULL;
	size_t len = 16384;
	char *buf = xmalloc(len);
	int rc = 0;

	*gid = (gid_t)-1;
	if (group != NULL) {
		if (getgrnam_r(group, &gr, buf, len, &grp) != 0 || grp == NULL) {
			msg_error("socket_group %.64s: no such group", group);
			rc = -1;
		} else {
			*gid = grp->gr_gid;
		}
	} else if (uid != (uid_t)-1 && getpwuid_r(uid, &pw, buf, len, &pwp) == 0 && pwp) {
		*gid = pw.pw_gid;
	}
	free(buf);
	return rc;
}

int
daemon_proc_sockid_init(struct daemon_sockid *id, const char *spec, uid_t uid, const char *group,
    unsigned mode)
{
	memset(id, 0, sizeof(*id));
	id->spec = spec;
	id->is_unix = proc_unix_path(spec) != NULL;
	id->uid = uid;
	id->mode = (mode_t)mode & 0777;
	id->gid = (gid_t)-1;
	return id->is_unix ? proc_sock_gid(group, uid, &id->gid) : 0;
}

int
daemon_proc_sock_enter(struct daemon_sockid *id)
{
	gid_t g;
	int n;

	if (!id->is_unix)
		return 0;
	id->umask = umask(0777 & ~id->mode);
	id->entered = 1;
	if (geteuid() != 0 || id->uid == (uid_t)-1)
		return 0;
	g = id->gid != (gid_t)-1 ? id->gid : getegid();
	id->egid = getegid();
	if ((n = getgroups(0, NULL)) < 0) {
		msg_error("getgroups: %m");
		goto fail;
	}
	id->groups = xreallocarray(NULL, (size_t)n + 1, sizeof(gid_t));
	if ((id->ngroups = getgroups(n, id->groups)) < 0) {
		msg_error("getgroups: %m");
		goto fail;
	}
	id->switched = 1;
	if (setgroups(1, &g) < 0 || setegid(g) < 0 || seteuid(id->uid) < 0) {
		msg_error("socket %s: cannot take uid %ld gid %ld to create it: %m", id->spec,
		    (long)id->uid, (long)g);
		goto fail;
	}
	return 0;
fail:
	daemon_proc_sock_leave(id);
	return -1;
}

int
daemon_proc_sock_leave(struct daemon_sockid *id)
{
	int rc = 0;

	if (!id->entered)
		return 0;
	if (id->switched) {
		if (seteuid(0) < 0 || setegid(id->egid) < 0 ||
		    setgroups((size_t)id->ngroups, id->groups) < 0) {
			msg_error("cannot return to root after creating %s: %m", id->spec);
			rc = -1;
		}
		id->switched = 0;
	}
	free(id->groups);
	id->groups = NULL;
	umask(id->umask);
	id->entered = 0;
	return rc;
}

void
daemon_proc_sock_error(const struct daemon_sockid *id, int err)
{
	char eb[128];
	const char *why =
	    err ? strerror_r(err, eb, sizeof(eb)) : "in use, not a socket, or no permission";

	if (id->switched)
		msg_error("cannot listen on %s: %s (it is created as uid %ld gid %ld: its "
			  "directory must let them create and remove files)",
		    id->spec, why, (long)id->uid, (long)getegid());
	else
		msg_error("cannot listen on %s: %s", id->spec, why);
}

int
daemon_proc_socket_perms(const struct daemon_sockid *id)
{
	const char *path = proc_unix_path(id->spec);
	char proc[64];
	struct stat st;
	int fd, rc = -1;

	if (path == NULL)
		return 0;
	/* O_PATH|O_NOFOLLOW: whatever is at path now, never what it points to. */
	if ((fd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC)) < 0 || fstat(fd, &st) < 0) {
		msg_error("socket %s: gone after bind: %m", path);
		goto out;
	}
	if (!S_ISSOCK(st.st_mode) || st.st_uid != geteuid()) {
		msg_error("socket %s: replaced while being set up (now %s of uid %ld): "
			  "check who else can write in its directory",
		    path,
		    S_ISSOCK(st.st_mode)      ? "a socket"
			: S_ISLNK(st.st_mode) ? "a symbolic link"
					      : "not a socket",
		    (long)st.st_uid);
		goto out;
	}
	/* Born right under our egid and umask, unless the directory says
	 * otherwise (set-group-ID bit, default ACL): fix the inode we hold. */
	if (id->gid != (gid_t)-1 && st.st_gid != id->gid &&
	    fchownat(fd, "", (uid_t)-1, id->gid, AT_EMPTY_PATH) < 0) {
		msg_error("socket %s: cannot give it group %ld: %m", path, (long)id->gid);
		goto out;
	}
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	if ((st.st_mode & 07777) != id->mode && chmod(proc, id->mode) < 0) {
		msg_error("socket %s: cannot give it mode %04o: %m", path, (unsigned)id->mode);
		goto out;
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	return rc;
}

int
daemon_proc_lookup_user(const char *user, uid_t *uid, gid_t *gid)
{
	struct passwd pw, *pwp = NULL;
	size_t len = 16384;
	char *pbuf;
	int rc = -1;

	*uid = (uid_t)-1;
	*gid = (gid_t)-1;
	if (geteuid() != 0 || user == NULL)
		return 0;
	pbuf = xmalloc(len);
	if (getpwnam_r(user, &pw, pbuf, len, &pwp) != 0 || pwp == NULL) {
		msg_error("user %.64s: no such user", user);
	} else if (pw.pw_uid == 0) {
		msg_error("user %.64s: refusing to run as root", user);
	} else {
		*uid = pw.pw_uid;
		*gid = pw.pw_gid;
		rc = 0;
	}
	free(pbuf);
	return rc;
}

int
daemon_proc_drop(const char *user, uid_t uid, gid_t gid)
{
	if (geteuid() != 0 || uid == (uid_t)-1)
		return 0;
	if (initgroups(user, gid) < 0) {
		msg_error("initgroups(%.64s): %m", user);
		return -1;
	}
	if (setgid(gid) < 0 || setuid(uid) < 0) {
		msg_error("cannot switch to user %.64s: %m", user);
		return -1;
	}
	/* Verify: the ids are what we asked for and root is out of reach. */
	if (getuid() != uid || geteuid() != uid || getgid() != gid || getegid() != gid ||
	    setuid(0) == 0 || seteuid(0) == 0) {
		msg_error("privilege drop to %.64s could not be verified", user);
		return -1;
	}
	msg_info("running as user %.64s (uid %ld, gid %ld)", user, (long)uid, (long)gid);
	return 0;
}
