/* Tape backup and restore as worker tasks: backup jobs (run now or when due), ad-hoc backup, restore. */
#ifndef TAPIR_API_JOBS_H
#define TAPIR_API_JOBS_H

#include <stdint.h>

#include "base/err.h"
#include "tape/backup_job.h"

/*
 * Starts job j as a worker task "tape-backup-job" (worker id = job id) for
 * authid: the job's state records the start and the result, notify-user
 * gets the result by mail.  upid_out holds TP_UPID_MAX bytes.
 */
int tp_api_backup_job_start(const tp_backup_job *j, const char *authid, char *upid_out, tp_err *err);

/*
 * One scheduler pass at time now: a job left "started" by a process that
 * is gone is marked finished with its task's status; every due job is
 * started (as root@pam, like PBS's scheduler).  Returns the number of jobs
 * started; errors of single jobs are logged, not returned.
 */
int tp_api_scheduler_tick(int64_t now);

#endif
