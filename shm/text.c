/* SPDX-License-Identifier: MIT */
/* Text helpers shared by every output format. */
#include <errno.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "text.h"

static const char *const level_names[] = {
	"emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
};

const char *lb_level_name(unsigned level)
{
	return level < 8 ? level_names[level] : "invalid";
}

int lb_level_parse(const char *s, size_t len)
{
	static const struct {
		const char *name;
		unsigned level;
	} aliases[] = {
		{ "panic", 0 }, { "critical", 2 }, { "error", 3 },
		{ "warn", 4 }, { "informational", 6 },
	};

	if (!s)
		return -EINVAL;
	if (len == 1 && s[0] >= '0' && s[0] <= '7')
		return s[0] - '0';
	for (unsigned l = 0; l < 8; l++)
		if (strlen(level_names[l]) == len && !strncasecmp(s, level_names[l], len))
			return (int)l;
	for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++)
		if (strlen(aliases[i].name) == len && !strncasecmp(s, aliases[i].name, len))
			return (int)aliases[i].level;
	return -EINVAL;
}

/* The syslog facilities of syslog.h, by code (LOG_KERN >> 3 is 0). */
static const char *const facility_names[24] = {
	"kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron",
	"authpriv", "ftp", NULL, NULL, NULL, NULL,
	"local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
};

int lb_facility_parse(const char *s, size_t len)
{
	if (!s)
		return -EINVAL;
	/* logger(1) still takes "security", the old name of auth. */
	if (len == 8 && !strncasecmp(s, "security", len))
		return 4;
	for (unsigned f = 0; f < 24; f++)
		if (facility_names[f] && strlen(facility_names[f]) == len &&
		    !strncasecmp(s, facility_names[f], len))
			return (int)f;
	return -EINVAL;
}

/* A number of syslog's PRI, facility * 8 + level, as logger(1) takes
 * it: 8 to 191 (0 to 7 would be kern's, and read as a plain level
 * instead); -EINVAL for anything else. */
static int pri_number(const char *s)
{
	int v = 0;

	if (!*s || strlen(s) > 3)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		v = v * 10 + (*s - '0');
	}
	return v >= 8 && v <= 191 ? v : -EINVAL;
}

int lb_priority_parse(const char *s, int *facility, int *level)
{
	const char *dot = s ? strchr(s, '.') : NULL;
	int f = -1, l;

	if (!s)
		return -EINVAL;
	if ((l = pri_number(s)) >= 0) {
		*facility = l >> 3;
		*level = l & 7;
		return 0;
	}
	if (dot) {
		f = lb_facility_parse(s, (size_t)(dot - s));
		if (f < 0)
			return -EDOM;
		s = dot + 1;
	}
	l = lb_level_parse(s, strlen(s));
	if (l < 0)
		return -EINVAL;
	*facility = f;
	*level = l;
	return 0;
}

static bool all_ascii8(const char *s)
{
	uint64_t w;

	memcpy(&w, s, sizeof(w));
	return (w & UINT64_C(0x8080808080808080)) == 0;
}

bool lb_utf8_valid(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	while (i < len) {
		if (len - i >= 8 && all_ascii8((const char *)s + i)) {
			i += 8;
			continue;
		}
		unsigned c = s[i];
		if (c < 0x80) {
			i++;
			continue;
		}
		size_t n;
		unsigned lo = 0x80, hi = 0xbf;
		if (c >= 0xc2 && c <= 0xdf)
			n = 1;
		else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			if (c == 0xe0)
				lo = 0xa0;   /* overlong */
			else if (c == 0xed)
				hi = 0x9f;   /* surrogates */
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			if (c == 0xf0)
				lo = 0x90;   /* overlong */
			else if (c == 0xf4)
				hi = 0x8f;   /* above U+10FFFF */
		} else
			return false;
		if (len - i <= n)
			return false;
		if (s[i + 1] < lo || s[i + 1] > hi)
			return false;
		for (size_t k = 2; k <= n; k++)
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
		i += n + 1;
	}
	return true;
}

void lb_json_put_string(struct lb_buf *b, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t start = 0;

	/* At most 6 output bytes per input byte, plus the quotes. */
	if (!lb_buf_reserve(b, len * 6 + 2))
		return;
	b->data[b->len++] = '"';
	for (size_t i = 0; i < len; i++) {
		/* Skip 8 clean bytes at a time: none below 0x20, no '"', no '\\'. */
		while (len - i >= 8) {
			uint64_t w, q, bs;
			memcpy(&w, s + i, 8);
			q = w ^ UINT64_C(0x2222222222222222);
			bs = w ^ UINT64_C(0x5c5c5c5c5c5c5c5c);
			uint64_t bad = ((w - UINT64_C(0x2020202020202020)) & ~w) |
				       ((q - UINT64_C(0x0101010101010101)) & ~q) |
				       ((bs - UINT64_C(0x0101010101010101)) & ~bs);
			if (bad & UINT64_C(0x8080808080808080))
				break;
			i += 8;
		}
		if (i >= len)
			break;
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		memcpy(b->data + b->len, s + start, i - start);
		b->len += i - start;
		start = i + 1;
		char *o = b->data + b->len;
		o[0] = '\\';
		switch (c) {
		case '"': o[1] = '"'; b->len += 2; break;
		case '\\': o[1] = '\\'; b->len += 2; break;
		case '\n': o[1] = 'n'; b->len += 2; break;
		case '\r': o[1] = 'r'; b->len += 2; break;
		case '\t': o[1] = 't'; b->len += 2; break;
		default:
			o[1] = 'u';
			o[2] = '0';
			o[3] = '0';
			o[4] = hex[c >> 4];
			o[5] = hex[c & 15];
			b->len += 6;
		}
	}
	memcpy(b->data + b->len, s + start, len - start);
	b->len += len - start;
	b->data[b->len++] = '"';
}

void lb_base64_put_quoted(struct lb_buf *b, const char *str, size_t len)
{
	static const char tab[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	if (!lb_buf_reserve(b, (len + 2) / 3 * 4 + 2))
		return;
	char *o = b->data + b->len;
	*o++ = '"';
	for (; len - i >= 3; i += 3) {
		uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
		*o++ = tab[v >> 18];
		*o++ = tab[(v >> 12) & 63];
		*o++ = tab[(v >> 6) & 63];
		*o++ = tab[v & 63];
	}
	if (len - i == 1) {
		uint32_t v = (uint32_t)s[i] << 16;
		*o++ = tab[v >> 18];
		*o++ = tab[(v >> 12) & 63];
		*o++ = '=';
		*o++ = '=';
	} else if (len - i == 2) {
		uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8;
		*o++ = tab[v >> 18];
		*o++ = tab[(v >> 12) & 63];
		*o++ = tab[(v >> 6) & 63];
		*o++ = '=';
	}
	*o++ = '"';
	b->len = (size_t)(o - b->data);
}

static void put_digits(char *o, unsigned v, int n)
{
	while (n--) {
		o[n] = (char)('0' + v % 10);
		v /= 10;
	}
}

void lb_rfc3339_put(struct lb_buf *b, uint64_t ns)
{
	/* gmtime_r is slow next to the rest of a line: keep the formatted
	 * second of the last call, per thread. */
	static __thread time_t cached_sec = -1;
	static __thread char cached[20];
	time_t sec = (time_t)(ns / 1000000000u);
	char out[30];

	if (sec != cached_sec) {
		struct tm tm;
		gmtime_r(&sec, &tm);
		put_digits(cached, (unsigned)(tm.tm_year + 1900), 4);
		cached[4] = '-';
		put_digits(cached + 5, (unsigned)tm.tm_mon + 1, 2);
		cached[7] = '-';
		put_digits(cached + 8, (unsigned)tm.tm_mday, 2);
		cached[10] = 'T';
		put_digits(cached + 11, (unsigned)tm.tm_hour, 2);
		cached[13] = ':';
		put_digits(cached + 14, (unsigned)tm.tm_min, 2);
		cached[16] = ':';
		put_digits(cached + 17, (unsigned)tm.tm_sec, 2);
		cached[19] = '.';
		cached_sec = sec;
	}
	memcpy(out, cached, 20);
	put_digits(out + 20, (unsigned)(ns % 1000000000u), 9);
	out[29] = 'Z';
	lb_buf_put(b, out, sizeof(out));
}
