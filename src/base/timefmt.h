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
/* Wall clock in seconds / monotonic seconds as double. */
int64_t tp_now(void);
double tp_monotonic(void);

#endif
