/* Mail notifications to users, piped to a configured sendmail. */
#ifndef TAPIR_TASK_NOTIFY_H
#define TAPIR_TASK_NOTIFY_H

#include "base/err.h"

/* Returned when no mail command is configured (nothing was sent, nothing failed). */
#define TP_NOTIFY_NO_MAILER (-ENOSYS)

/*
 * The mail command: $TAPIR_SENDMAIL when set, else the "sendmail" key of
 * tp_config_path("notify.json"); NULL when neither is set (malloc'd, caller
 * frees).  The sender is the "mail-from" key, default "tapir@HOSTNAME".
 */
char *tp_notify_mailer(tp_err *err);

/*
 * Mails subject/body to the e-mail address of userid (from user.json): runs
 * MAILER -oi -f FROM -- ADDRESS with the message (To, From, Subject, Date,
 * MIME headers, body) on its stdin.  Returns 0; TP_NOTIFY_NO_MAILER when no
 * mail command is configured; -TP_ENOTFOUND when the user does not exist
 * or has no e-mail address; -EINVAL for a subject with line breaks; -EIO
 * when the command fails (its exit status in the message).
 */
int tp_notify_send(const char *userid, const char *subject, const char *body, tp_err *err);

/*
 * tp_notify_send for workers: logs the outcome with tp_info/tp_warn
 * ("sent ... to USER", "not sent: no mail command configured", or the
 * error as a warning) and returns the same code.
 */
int tp_notify_user(const char *userid, const char *subject, const char *body);

#endif
