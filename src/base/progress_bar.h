/* A one-line progress bar on a terminal, kept below the task's log lines while a CLI job runs. */
#ifndef TAPIR_BASE_PROGRESS_BAR_H
#define TAPIR_BASE_PROGRESS_BAR_H

#include <stddef.h>

/*
 * Turns the bar on for fd when it is a terminal and $TERM is not "dumb";
 * returns 1 when it is on, 0 otherwise (every other call is then a no-op).
 * One bar per process: the CLI runs one job.
 */
int tp_progress_bar_start(int fd);
/*
 * Where the job is: frac in [0, 1] and a short status (may be NULL).
 * Redrawn at most every 100 ms, and always when frac reaches 1.  Thread-safe.
 */
void tp_progress_bar_set(double frac, const char *text);
/* Takes the bar off its line so that a log line can be printed there, and draws it again after. */
void tp_progress_bar_hide(void);
void tp_progress_bar_show(void);
/* Clears the line and turns the bar off. */
void tp_progress_bar_stop(void);
/*
 * "[#####-----]  50% text" with a bar of `width` cells, cut to fit
 * `size` - 1 bytes; returns the length written.  Used by the bar; for tests.
 */
size_t tp_progress_bar_render(double frac, const char *text, int width, char *out, size_t size);

#endif
