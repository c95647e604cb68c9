/* A one-line progress bar on a terminal, kept below the task's log lines while a CLI job runs. */
#include "base/progress_bar.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "base/timefmt.h"

#define BAR_CELLS 30
#define REDRAW_S 0.1

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static int bar_fd = -1, shown;
static double last_draw = -1.0, cur_frac = -1.0;
static char cur_text[160];

size_t tp_progress_bar_render(double frac, const char *text, int width, char *out, size_t size)
{
	if (!size)
		return 0;
	if (!(frac >= 0.0))
		frac = 0.0;
	if (frac > 1.0)
		frac = 1.0;
	if (width < 1)
		width = 1;
	int full = (int)(frac * width + 1e-9);
	size_t n = 0;
	if (n + 1 < size)
		out[n++] = '[';
	for (int i = 0; i < width && n + 1 < size; i++)
		out[n++] = i < full ? '#' : '-';
	int w = snprintf(out + n, size - n, "] %3d%%%s%s", (int)(frac * 100.0 + 1e-9), text && *text ? " " : "",
			 text ? text : "");
	if (w > 0)
		n += (size_t)w < size - n ? (size_t)w : size - n - 1;
	out[n] = 0;
	return n;
}

/* The terminal's width, so that the bar never wraps (a wrapped line cannot be taken back with \r). */
static size_t columns(void)
{
	struct winsize ws;
	if (ioctl(bar_fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20)
		return ws.ws_col;
	return 80;
}

/* with mu held */
static void draw(void)
{
	char line[512];
	size_t cols = columns();
	size_t n = tp_progress_bar_render(cur_frac, cur_text, BAR_CELLS, line + 1,
					  (cols < sizeof(line) - 8 ? cols : sizeof(line) - 8));
	line[0] = '\r';
	memcpy(line + 1 + n, "\033[K", 3);
	if (write(bar_fd, line, n + 4) < 0) {
		/* a terminal that went away: the log and the summary still say everything */
	}
	shown = 1;
	last_draw = tp_monotonic();
}

/* with mu held */
static void erase(void)
{
	if (shown && write(bar_fd, "\r\033[K", 4) < 0) {
		/* as in draw */
	}
	shown = 0;
}

int tp_progress_bar_start(int fd)
{
	const char *term = getenv("TERM");
	if (!isatty(fd) || (term && !strcmp(term, "dumb")))
		return 0;
	pthread_mutex_lock(&mu);
	bar_fd = fd;
	shown = 0;
	last_draw = -1.0;
	cur_frac = -1.0;
	cur_text[0] = 0;
	pthread_mutex_unlock(&mu);
	return 1;
}

void tp_progress_bar_set(double frac, const char *text)
{
	pthread_mutex_lock(&mu);
	if (bar_fd >= 0) {
		cur_frac = frac;
		snprintf(cur_text, sizeof(cur_text), "%s", text ? text : "");
		double now = tp_monotonic();
		if (frac >= 1.0 || last_draw < 0 || now - last_draw >= REDRAW_S)
			draw();
	}
	pthread_mutex_unlock(&mu);
}

void tp_progress_bar_hide(void)
{
	pthread_mutex_lock(&mu);
	if (bar_fd >= 0)
		erase();
	pthread_mutex_unlock(&mu);
}

void tp_progress_bar_show(void)
{
	pthread_mutex_lock(&mu);
	if (bar_fd >= 0 && cur_frac >= 0)
		draw();
	pthread_mutex_unlock(&mu);
}

void tp_progress_bar_stop(void)
{
	pthread_mutex_lock(&mu);
	if (bar_fd >= 0)
		erase();
	bar_fd = -1;
	cur_frac = -1.0;
	pthread_mutex_unlock(&mu);
}
