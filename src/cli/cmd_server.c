/* `tapir server [--listen ADDR:PORT] [--no-tls]`: the HTTPS API server, until SIGTERM/SIGINT. */
#include <errno.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/server.h"
#include "base/log.h"
#include "cli/args.h"
#include "cli/commands.h"

static sem_t stop_sem;
static volatile sig_atomic_t stop_sig;

/* Whatever thread the signal lands on (sanitizer runtimes have their own), the main thread wakes up. */
static void on_signal(int sig)
{
	stop_sig = sig;
	sem_post(&stop_sem);
}

int cmd_server(int argc, char **argv, tp_err *err)
{
	static const char *const allowed[] = { "listen", "max-body", "scheduler-interval", NULL };
	static const char *const flags[] = { "no-tls", NULL };
	tp_args a;
	int r = tp_args_parse(&a, argc, argv, allowed, flags, err);
	if (r < 0)
		return r;
	if ((r = tp_args_need_pos(&a, 0, 0, "tapir server [--listen ADDR:PORT] [--no-tls]", err)) < 0)
		return r;
	unsigned long long max_body, interval;
	if ((r = tp_args_u64(&a, "max-body", TP_SERVER_DEFAULT_MAX_BODY, 1, &max_body, err)) < 0 ||
	    (r = tp_args_u64(&a, "scheduler-interval", 60, 0, &interval, err)) < 0)
		return r;
	if (max_body < 1024 || max_body > (64ull << 20))
		return tp_err_set(err, -EINVAL, "--max-body must be between 1K and 64M");
	if (interval < 1 || interval > 3600)
		return tp_err_set(err, -EINVAL, "--scheduler-interval must be 1..3600 seconds");
	tp_server_opts o = { tp_args_get(&a, "listen"), tp_args_flag(&a, "no-tls"), (size_t)max_body, (int)interval };

	sem_init(&stop_sem, 0, 0);
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);

	tp_server *s;
	if ((r = tp_server_start(&o, &s, err)) < 0)
		return r;
	const char *fp = tp_server_fingerprint(s);
	if (*fp)
		printf("%s certificate fingerprint (SHA-256): %s\n", tp_server_cert_created(s) ? "generated" : "server", fp);
	printf("listening on %s (%s), port %u\n", o.listen ? o.listen : TP_SERVER_DEFAULT_LISTEN,
	       o.no_tls ? "http" : "https", tp_server_port(s));
	fflush(stdout);
	while (sem_wait(&stop_sem) < 0 && errno == EINTR) {
	}
	tp_info("signal %d: shutting down", (int)stop_sig);
	size_t left = tp_server_stop(s, 30000);
	if (left)
		return tp_err_set(err, -ETIMEDOUT, "%zu worker task(s) did not stop within 30 s", left);
	tp_info("server stopped");
	return 0;
}
