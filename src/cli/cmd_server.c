/* `tapir server [--listen ADDR:PORT] [--no-tls]`: the HTTPS API server, until SIGTERM/SIGINT. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/server.h"
#include "base/log.h"
#include "cli/args.h"
#include "cli/commands.h"

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

	/* every thread inherits the blocked set; only this one takes the signals, with sigwait */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
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
	int sig = 0;
	while (sigwait(&set, &sig) == 0 && sig == SIGHUP) {
	}
	tp_info("signal %d: shutting down", sig);
	size_t left = tp_server_stop(s, 30000);
	if (left)
		return tp_err_set(err, -ETIMEDOUT, "%zu worker task(s) did not stop within 30 s", left);
	tp_info("server stopped");
	return 0;
}
