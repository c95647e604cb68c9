/* Logging: stderr by default, redirectable into a worker task's log. */
#ifndef TAPIR_BASE_LOG_H
#define TAPIR_BASE_LOG_H

enum tp_log_level { TP_LOG_ERROR, TP_LOG_WARN, TP_LOG_INFO, TP_LOG_DEBUG };

typedef void (*tp_log_sink)(void *ctx, enum tp_log_level lvl, const char *line);

void tp_log(enum tp_log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define tp_info(...) tp_log(TP_LOG_INFO, __VA_ARGS__)
#define tp_warn(...) tp_log(TP_LOG_WARN, __VA_ARGS__)
#define tp_error(...) tp_log(TP_LOG_ERROR, __VA_ARGS__)
#define tp_debug(...) tp_log(TP_LOG_DEBUG, __VA_ARGS__)

/* Replaces the sink (NULL restores stderr); returns nothing, thread-safe. */
void tp_log_set_sink(tp_log_sink sink, void *ctx);
/*
 * A sink for the calling thread only, taking precedence over the process
 * sink (NULL removes it): concurrent worker tasks in one server process.
 */
void tp_log_set_thread_sink(tp_log_sink sink, void *ctx);
/* The calling thread's own sink (NULL when it uses the process sink). */
void tp_log_get_thread_sink(tp_log_sink *sink, void **ctx);
/* Messages above this level are dropped (default INFO; TAPIR_DEBUG=1 -> DEBUG). */
void tp_log_set_level(enum tp_log_level max);
/* When quiet, the default stderr sink prints only warnings and errors. */
void tp_log_set_quiet(int quiet);
int tp_log_quiet(void);

#endif
