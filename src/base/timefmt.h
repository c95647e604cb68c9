/* RFC 3339 time formatting and parsing (snapshot names, key files, logs). */
#ifndef TAPIR_BASE_TIMEFMT_H
#define TAPIR_BASE_TIMEFMT_H

#include <stdint.h>

/* "YYYY-MM-DDTHH:MM:SSZ" (20 chars + NUL) in UTC; out must hold 21 bytes. */
void tp_time_utc(int64_t epoch, char out[21]);
/* Strict parse of the 20-char UTC form used for snapshot names; -EINVAL otherwise. */
int tp_time_parse_utc(const char *s, int64_t *epoch);
/* Local time with numeric offset, "YYYY-MM-DDTHH:MM:SS+HH:MM" (out >= 32 bytes). */
void tp_time_local(int64_t epoch, char out[32]);
/* Parses "...Z" or "...+HH:MM"/"-HH:MM" forms; -EINVAL otherwise. */
int tp_time_parse_rfc3339(const char *s, int64_t *epoch);
/*
 * Time left for work done at the pace so far: done of total units in
 * elapsed_s seconds.  "H:MM:SS" into out (>= 16 bytes), capped at
 * 999:59:59; "" when it cannot be told yet (nothing done, all done, or
 * under a second elapsed).
 */
void tp_time_left(double elapsed_s, uint64_t done, uint64_t total, char out[16]);
/* Wall clock in seconds / monotonic seconds as double. */
int64_t tp_now(void);
double tp_monotonic(void);

#endif
