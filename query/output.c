/* SPDX-License-Identifier: MIT */
/* How logbus-query prints an entry. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "logbus.h"
#include "output.h"

static const char *const mode_names[] = {
	[OUTPUT_SHORT] = "short", [OUTPUT_SHORT_PRECISE] = "short-precise",
	[OUTPUT_JSON] = "json", [OUTPUT_JSON_PRETTY] = "json-pretty",
	[OUTPUT_CAT] = "cat", [OUTPUT_VERBOSE] = "verbose",
};

int output_mode_parse(const char *s)
{
	for (size_t i = 0; i < sizeof(mode_names) / sizeof(mode_names[0]); i++)
		if (!strcmp(s, mode_names[i]))
			return (int)i;
	return -EINVAL;
}

bool output_colour_wanted(FILE *out)
{
	const char *no = getenv("NO_COLOR");

	return (!no || !*no) && isatty(fileno(out));
}

/* Whether text shows as it is: no control character but tab and newline. */
static bool printable(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7f)
			return false;
	}
	return true;
}

/* A message or value: as it is when printable, else how many bytes. */
static void put_text(FILE *out, const char *s, size_t len)
{
	if (printable(s, len))
		fwrite(s, 1, len, out);
	else
		fprintf(out, "[%zu bytes of binary data]", len);
}

/* The escape that starts a coloured line for level, or NULL. */
static const char *colour_of(int level)
{
	if (level <= LOGBUS_CRIT)
		return "\033[1;31m";
	return level == LOGBUS_ERR ? "\033[31m" : NULL;
}

/* Local time of ns as fmt (strftime), frac_digits of the second after
 * it (0, 6 or 9), then zone (strftime, may be ""). */
static void put_local_time(FILE *out, int64_t ns, const char *fmt, int frac_digits,
			   const char *zone)
{
	time_t sec = (time_t)(ns / 1000000000);
	long frac = (long)(ns % 1000000000);
	struct tm tm;
	char text[64];

	if (ns < 0 && frac) {
		sec--;
		frac += 1000000000;
	}
	localtime_r(&sec, &tm);
	strftime(text, sizeof(text), fmt, &tm);
	fputs(text, out);
	if (frac_digits == 6)
		fprintf(out, ".%06ld", frac / 1000);
	else if (frac_digits == 9)
		fprintf(out, ".%09ld", frac);
	if (*zone && strftime(text, sizeof(text), zone, &tm))
		fputs(text, out);
}

/* A process name as it is, but control bytes (and, when it was not
 * UTF-8, any byte above ASCII) as \xNN: a name is one short word. */
static void put_name(FILE *out, const char *s, size_t len, bool utf8)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f || (c >= 0x80 && !utf8) || c == '\\')
			fprintf(out, "\\x%02x", c);
		else
			fputc(c, out);
	}
}

/* "MMM DD HH:MM:SS[.frac] tag comm[pid]: message", without the newline:
 * comm[pid] is the process as the writer attests it, where journalctl
 * shows IDENTIFIER[PID], beside the tag the client chose. A line without
 * comm (the fallback's, an older writer's) has "tag[pid]: message". */
static void put_short(FILE *out, const struct entry *e, int frac_digits)
{
	put_local_time(out, e->ts_ns, "%b %d %H:%M:%S", frac_digits, "");
	fprintf(out, " %s", e->tag);
	if (e->comm) {
		fputc(' ', out);
		put_name(out, e->comm, e->comm_len, e->comm_utf8);
	}
	fprintf(out, "[%lld]: ", (long long)e->pid);
	put_text(out, e->msg, e->msg_len);
}

/* "    PREFIXNAME=value", value decoded from base64 when b64 (as it is
 * when it is no base64). */
static void put_line(FILE *out, const char *prefix, const char *name, size_t name_len, json_t *v,
		     bool b64)
{
	size_t n = json_string_length(v);
	char *raw = b64 ? entry_base64_decode(json_string_value(v), n, &n) : NULL;

	fprintf(out, "    %s%.*s=", prefix, (int)name_len, name);
	if (raw)
		put_text(out, raw, n);
	else if (json_is_string(v))
		put_text(out, json_string_value(v), json_string_length(v));
	free(raw);
	fputc('\n', out);
}

/* Every key of the object, "    KEY=VALUE", fields as fields.KEY; values
 * under a KEY_b64 (msg_b64, comm_b64, exe_b64, fields_b64) decoded, as
 * KEY. */
static void put_verbose(FILE *out, const struct entry *e, const char *colour)
{
	const char *key;
	json_t *v;

	fputs(colour ? colour : "", out);
	put_local_time(out, e->ts_ns, "%a %Y-%m-%d %H:%M:%S", 9, " %Z");
	fputs(e->has_seq ? "" : " (fallback)", out);
	fputs(colour ? "\033[0m\n" : "\n", out);
	json_object_foreach(e->obj, key, v) {
		size_t len = strlen(key);
		bool b64 = len > 4 && !strcmp(key + len - 4, "_b64");

		if (json_is_object(v)) {
			const char *fk;
			json_t *fv;
			json_object_foreach(v, fk, fv)
				put_line(out, "fields.", fk, strlen(fk), fv, b64);
		} else if (json_is_string(v)) {
			put_line(out, "", key, b64 ? len - 4 : len, v, b64);
		} else {
			char *text = json_dumps(v, JSON_ENCODE_ANY);
			fprintf(out, "    %s=%s\n", key, text ? text : "?");
			free(text);
		}
	}
}

void output_entry(FILE *out, enum output_mode mode, bool colour, const struct entry *e)
{
	const char *c = colour ? colour_of(e->level) : NULL;

	switch (mode) {
	case OUTPUT_JSON:
		fwrite(e->line, 1, e->line_len, out);
		fputc('\n', out);
		return;
	case OUTPUT_JSON_PRETTY:
		json_dumpf(e->obj, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		fputc('\n', out);
		return;
	case OUTPUT_VERBOSE:
		put_verbose(out, e, c);
		return;
	default:
		break;
	}
	/* One line, coloured up to its newline. */
	fputs(c ? c : "", out);
	if (mode == OUTPUT_CAT)
		put_text(out, e->msg, e->msg_len);
	else
		put_short(out, e, mode == OUTPUT_SHORT_PRECISE ? 6 : 0);
	fputs(c ? "\033[0m\n" : "\n", out);
}
