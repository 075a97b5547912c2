/* SPDX-License-Identifier: MIT */
/* Times for logbus-query: RFC 3339 stamps and --since/--until values. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "qtime.h"

#define NS_PER_SEC INT64_C(1000000000)

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * days_from_civil): no table, no time zone, no library call. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

/* n decimal digits at s; -1 when one is not a digit. */
static int digits(const char *s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* Local broken-down time to ns since the epoch; -EINVAL when mktime
 * cannot place it. */
static int local_ns(struct tm *tm, int64_t frac_ns, int64_t *ns)
{
	tm->tm_isdst = -1;
	time_t t = mktime(tm);
	if (t == (time_t)-1 && tm->tm_year != 69)
		return -EINVAL;
	*ns = (int64_t)t * NS_PER_SEC + frac_ns;
	return 0;
}

int qtime_rfc3339(const char *s, size_t len, bool local_ok, int64_t *ns)
{
	int y, mo, d, h, mi, sec;
	int64_t frac = 0;
	size_t i = 19;

	if (len < 19 || s[4] != '-' || s[7] != '-' || s[13] != ':' || s[16] != ':' ||
	    (s[10] != 'T' && s[10] != 't' && s[10] != ' '))
		return -EINVAL;
	y = digits(s, 4);
	mo = digits(s + 5, 2);
	d = digits(s + 8, 2);
	h = digits(s + 11, 2);
	mi = digits(s + 14, 2);
	sec = digits(s + 17, 2);
	if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 ||
	    mi > 59 || sec < 0 || sec > 60)
		return -EINVAL;
	if (i < len && s[i] == '.') {
		int64_t scale = NS_PER_SEC / 10;
		size_t start = ++i;
		for (; i < len && s[i] >= '0' && s[i] <= '9'; i++, scale /= 10)
			frac += (s[i] - '0') * scale;
		if (i == start)
			return -EINVAL;
	}
	if (i == len) {
		if (!local_ok)
			return -EINVAL;
		struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d,
				 .tm_hour = h, .tm_min = mi, .tm_sec = sec };
		return local_ns(&tm, frac, ns);
	}
	int64_t offset = 0;
	if ((s[i] == 'Z' || s[i] == 'z') && i + 1 == len)
		offset = 0;
	else if ((s[i] == '+' || s[i] == '-') && len - i == 6 && s[i + 3] == ':') {
		int oh = digits(s + i + 1, 2), om = digits(s + i + 4, 2);
		if (oh < 0 || oh > 23 || om < 0 || om > 59)
			return -EINVAL;
		offset = (oh * 3600 + om * 60) * (s[i] == '-' ? -1 : 1);
	} else
		return -EINVAL;
	int64_t secs = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 +
		       mi * 60 + sec - offset;
	*ns = secs * NS_PER_SEC + frac;
	return 0;
}

/* Local midnight days_ahead days from now. */
static int midnight(int64_t now_ns, int days_ahead, int64_t *ns)
{
	time_t now = (time_t)(now_ns / NS_PER_SEC);
	struct tm tm;

	if (!localtime_r(&now, &tm))
		return -EINVAL;
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	tm.tm_mday += days_ahead;
	return local_ns(&tm, 0, ns);
}

/* The seconds in one UNIT; 0 for an unknown unit. */
static int64_t unit_seconds(const char *u, size_t len)
{
	static const struct { const char *name; int64_t secs; } units[] = {
		{ "s", 1 }, { "sec", 1 }, { "secs", 1 }, { "second", 1 }, { "seconds", 1 },
		{ "m", 60 }, { "min", 60 }, { "mins", 60 }, { "minute", 60 }, { "minutes", 60 },
		{ "h", 3600 }, { "hour", 3600 }, { "hours", 3600 },
		{ "d", 86400 }, { "day", 86400 }, { "days", 86400 },
		{ "w", 604800 }, { "week", 604800 }, { "weeks", 604800 },
	};

	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strlen(units[i].name) == len && !strncasecmp(units[i].name, u, len))
			return units[i].secs;
	return 0;
}

/* "N UNIT ago" or "-N UNIT": now less that span. */
static int relative(const char *s, int64_t now_ns, int64_t *ns)
{
	bool minus = *s == '-';
	const char *p = s + minus;
	char *end;
	size_t len;

	if (*p < '0' || *p > '9')
		return -EINVAL;
	errno = 0;
	unsigned long long n = strtoull(p, &end, 10);
	if (errno)
		return -EINVAL;
	while (*end == ' ')
		end++;
	len = strcspn(end, " ");
	int64_t unit = unit_seconds(end, len);
	const char *rest = end + len;
	while (*rest == ' ')
		rest++;
	bool ago = !strcasecmp(rest, "ago");
	if (!unit || minus == ago || (!ago && *rest) || n > (unsigned long long)(INT64_MAX / NS_PER_SEC / unit))
		return -EINVAL;
	*ns = now_ns - (int64_t)n * unit * NS_PER_SEC;
	return 0;
}

int qtime_parse(const char *s, int64_t now_ns, int64_t *ns)
{
	size_t len = strlen(s);

	if (!strcasecmp(s, "now")) {
		*ns = now_ns;
		return 0;
	}
	if (!strcasecmp(s, "today"))
		return midnight(now_ns, 0, ns);
	if (!strcasecmp(s, "yesterday"))
		return midnight(now_ns, -1, ns);
	if (!strcasecmp(s, "tomorrow"))
		return midnight(now_ns, 1, ns);
	if (len == 10 && s[4] == '-' && s[7] == '-') {
		char full[20];
		memcpy(full, s, 10);
		memcpy(full + 10, " 00:00:00", 9);
		return qtime_rfc3339(full, 19, true, ns);
	}
	if (len >= 19 && s[4] == '-')
		return qtime_rfc3339(s, len, true, ns);
	return relative(s, now_ns, ns);
}
