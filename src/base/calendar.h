/* systemd-style calendar events (next occurrence) and time spans ("1d 2h"). */
#ifndef TAPIR_BASE_CALENDAR_H
#define TAPIR_BASE_CALENDAR_H

#include <stdint.h>

#include "base/err.h"

#define TP_CAL_MAX_YEAR_RANGES 8

/*
 * A parsed calendar event: one bit per accepted value of each field (for
 * years a few start..end/step ranges; n_years 0 = any year).
 *
 * Grammar (the subset of systemd.time(7) PBS schedules use):
 *   EVENT    := SHORTHAND | [WEEKDAYS] [DATE] [TIME]     (at least one part)
 *   SHORTHAND:= minutely|hourly|daily|weekly|monthly|yearly|annually|
 *               quarterly|semiannually
 *   WEEKDAYS := WD[..WD](,WD[..WD])*      WD = mon|monday|tue|... (any case)
 *   DATE     := [YEAR-]MONTH-DAY          each a COMPONENT list
 *   TIME     := HOUR:MINUTE[:SECOND]      each a COMPONENT list
 *   COMPONENT:= '*' | V | V/STEP | V..V | V..V/STEP | '*'/STEP, ','-separated
 * Omitted date = "*-*-*"; omitted time = "00:00:00"; omitted seconds = ":00".
 * With a weekday but neither date nor time, the time is 00:00:00, as systemd.
 * weekly = mon 00:00, monthly = *-*-01 00:00, hourly = *:00:00, daily = 00:00.
 * Not supported (rejected with an error): '~' (days from month end), time
 * zones inside the text, fractional seconds.
 */
typedef struct tp_calendar_event {
	uint64_t sec;     /* bit s: second s (0..59) */
	uint64_t min;     /* bit m: minute m (0..59) */
	uint32_t hour;    /* bit h: hour h (0..23) */
	uint32_t mday;    /* bit d: day d (1..31) */
	uint16_t mon;     /* bit m: month m (1..12) */
	uint8_t wday;     /* bit w: weekday, 0 = Sunday .. 6 = Saturday */
	int n_years;
	struct { int start, end, step; } years[TP_CAL_MAX_YEAR_RANGES];
} tp_calendar_event;

/* Parses text; -EINVAL with a message naming the bad part on error. */
int tp_calendar_parse(const char *text, tp_calendar_event *ev, tp_err *err);

/*
 * Computes the first event strictly after `after` (seconds since the epoch),
 * evaluating the fields in UTC when utc != 0, otherwise in the local time
 * zone (TZ, as PBS does by default).  Returns 0 and sets *next, or
 * -TP_ENOTFOUND when there is no event within the next 200 years (e.g.
 * "2020-01-01" after 2021, or Feb 30).
 */
int tp_calendar_next(const tp_calendar_event *ev, int64_t after, int utc, int64_t *next, tp_err *err);

/*
 * Parses a time span into seconds: a sequence of NUMBER [UNIT] terms,
 * optionally separated by spaces ("1d 2h", "30 days", "1w", "1h30min",
 * "90" = 90 s).  Units: s sec second(s), m min minute(s), h hr hour(s),
 * d day(s), w week(s), M month(s) (30.44 days), y year(s) (365.25 days),
 * as systemd.  -EINVAL naming the bad term on error, -ERANGE on overflow.
 */
int tp_timespan_parse(const char *text, int64_t *seconds, tp_err *err);

/* Formats seconds as "1d 2h 3m 4s" (0 -> "0s"); out must hold 64 bytes. */
void tp_timespan_format(int64_t seconds, char out[64]);

#endif
