/*
 * milter_proc.c - danepold's process plumbing (contract in milter.h):
 * daemonizing with a start-up status pipe, the pid file, the unix
 * socket's owner/group/mode, and the privilege drop.
 *
 * Daemonize: the original process forks, the child calls setsid() and
 * forks again (so the daemon can never reacquire a terminal); the
 * original waits on a pipe for one status byte from the daemon
 * (milter_proc_ready) and exits with it, so `danepold` without -f fails
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
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "mem.h"
#include "milter.h"

static int proc_ready_fd = -1;	/* write end of the status pipe, daemon side */

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
	unsigned char st = DANEPOLD_EX_SOFTWARE;
	ssize_t n;

	do
		n = read(rfd, &st, 1);
	while (n < 0 && errno == EINTR);
	waitpid(child, NULL, 0);	/* the intermediate child exits at once */
	if (n != 1)
		msg_error("danepold exited during start-up");
	_exit(n == 1 ? st : DANEPOLD_EX_SOFTWARE);
}

int
milter_proc_daemonize(int keep_stdout)
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
		_exit(DANEPOLD_EX_OSERR);
	if ((pid = fork()) < 0)
		_exit(DANEPOLD_EX_OSERR);
	if (pid > 0)
		_exit(0);
	proc_ready_fd = pfd[1];
	if (chdir("/") < 0 || proc_devnull(STDIN_FILENO, O_RDONLY) < 0
	    || (!keep_stdout && proc_devnull(STDOUT_FILENO, O_WRONLY) < 0)) {
		msg_error("cannot detach: %m");
		return -1;
	}
	return 0;
}

void
milter_proc_ready(int status)
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

/* Read the pid in path; 0 when unreadable or not a number. */
static pid_t
proc_pid_read(const char *path)
{
	char text[32];
	ssize_t n;
	long v;
	char *end;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return 0;
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	text[n] = 0;
	v = strtol(text, &end, 10);
	if (end == text || v <= 0 || v > 0x7fffffffL || (*end && *end != '\n'))
		return 0;
	return (pid_t)v;
}

int
milter_proc_pidfile(const char *path)
{
	char text[32];
	int fd, len;
	pid_t old;

	for (int attempt = 0; attempt < 2; attempt++) {
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
		if (fd >= 0)
			break;
		if (errno != EEXIST) {
			msg_error("pid file %s: %m", path);
			return -1;
		}
		old = proc_pid_read(path);
		if (old > 0 && old != getpid() && (kill(old, 0) == 0 || errno == EPERM)) {
			msg_error("pid file %s: danepold already runs as pid %ld", path, (long)old);
			return -1;
		}
		msg_warn("pid file %s is stale (pid %ld): replacing it", path, (long)old);
		if (unlink(path) < 0 && errno != ENOENT) {
			msg_error("pid file %s: cannot remove: %m", path);
			return -1;
		}
	}
	if (fd < 0) {
		msg_error("pid file %s: cannot create", path);
		return -1;
	}
	len = snprintf(text, sizeof(text), "%ld\n", (long)getpid());
	if (write(fd, text, (size_t)len) != len) {
		msg_error("pid file %s: write: %m", path);
		close(fd);
		unlink(path);
		return -1;
	}
	close(fd);
	return 0;
}

void
milter_proc_pidfile_remove(const char *path)
{
	if (path && proc_pid_read(path) == getpid() && unlink(path) < 0)
		msg_warn("pid file %s: cannot remove: %m", path);
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

int
milter_proc_socket_perms(const char *spec, uid_t uid, const char *group, unsigned mode)
{
	const char *path = proc_unix_path(spec);
	struct group gr, *grp = NULL;
	gid_t gid = (gid_t)-1;
	char *gbuf = NULL;
	size_t glen = 16384;
	int rc = -1;

	if (path == NULL)
		return 0;
	if (group != NULL) {
		gbuf = xmalloc(glen);
		if (getgrnam_r(group, &gr, gbuf, glen, &grp) != 0 || grp == NULL) {
			msg_error("socket_group %.64s: no such group", group);
			goto out;
		}
		gid = grp->gr_gid;
	}
	if ((uid != (uid_t)-1 || gid != (gid_t)-1) && chown(path, uid, gid) < 0) {
		msg_error("socket %s: chown: %m", path);
		goto out;
	}
	if (chmod(path, (mode_t)mode) < 0) {
		msg_error("socket %s: chmod: %m", path);
		goto out;
	}
	rc = 0;
out:
	free(gbuf);
	return rc;
}

int
milter_proc_lookup_user(const char *user, uid_t *uid, gid_t *gid)
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
milter_proc_drop(const char *user, uid_t uid, gid_t gid)
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
	if (getuid() != uid || geteuid() != uid || getgid() != gid || getegid() != gid
	    || setuid(0) == 0 || seteuid(0) == 0) {
		msg_error("privilege drop to %.64s could not be verified", user);
		return -1;
	}
	msg_info("running as user %.64s (uid %ld, gid %ld)", user, (long)uid, (long)gid);
	return 0;
}
