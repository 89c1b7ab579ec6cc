/*
 * daemon_check.h - what `danepold -n` checks beyond the configuration
 * itself (policy/policy_check.h): the things start-up will need from the
 * system, so that a typo shows at `-n` (and the unit's ExecStartPre=)
 * rather than as a daemon that dies after binding its sockets.
 */
#ifndef DANEPOL_MILTER_DAEMON_CHECK_H
#define DANEPOL_MILTER_DAEMON_CHECK_H

#include "conf.h"

/**
 * Check that user and socket_group exist (user not root), and that user
 * may write where start-up and the daemon write: the directories of the
 * unix sockets (created with user's ids), of audit_log and of
 * outcome_db (when probe or exim_socket use it; opened after the
 * privilege drop; an existing file must be writable too); the pid file's
 * directory must exist (root opens the file; user removes it at exit:
 * a warning when it cannot). Each problem is logged as "FILE:LINE: key =
 * value: reason; what to do" (LINE 0 = "(default)"). A directory that
 * does not exist yet is a warning (systemd's RuntimeDirectory= and
 * tmpfiles.d create them just before start-up).
 *
 * Method: as root, a forked child takes user's identity (initgroups,
 * setgid, setuid) and asks access(2), so the kernel answers with the
 * daemon's real credentials (supplementary groups, ACLs, read-only
 * mounts) instead of a re-implementation of the mode bits; as another
 * user, access(2) in the process itself (that user is the daemon's).
 * Call before any thread exists (the child of fork() then may use what
 * it likes). Returns 0 (EX_OK), EX_CONFIG (no such user or group) or
 * EX_OSERR (a path start-up would fail on).
 */
int daemon_check_system(const struct conf *c);

#endif
