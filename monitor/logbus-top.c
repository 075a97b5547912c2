/* SPDX-License-Identifier: MIT */
/*
 * logbus-top - a live terminal monitor of a logbus bus.
 *
 * SYNOPSIS
 *	logbus-top [--bus NAME] [--interval SECONDS] [--exit-when-idle SECONDS]
 *
 * DESCRIPTION
 *	Reads the stats segment /logbus.NAME.stats that logbus-writer
 *	publishes, every SECONDS (1 by default), and shows: the writer's pid,
 *	uptime and state (alive, stalled or dead, from its heartbeat; a dead
 *	writer is shown as such, not as frozen numbers); entries in, out and
 *	dropped per second; the bus's fill; publish-to-written latency
 *	quantiles; a sparkline of entries written per second over the last
 *	minute; and tables of clients, sinks and hooks, sortable.
 *
 *	Keys: q quit, s next sort order (rate, total, drops, name), p pause,
 *	+ a longer interval, - a shorter one, h help. Works from 80x24 up,
 *	and redraws on resize.
 *
 *	--exit-when-idle SECONDS exits (status 0) once no entry has been
 *	written for that long, for scripts that show the monitor while a job
 *	runs.
 *
 * EXIT STATUS
 *	0 quit, or idle for --exit-when-idle; 1 the bus or its stats segment
 *	does not exist, or the terminal cannot be used; 2 usage error.
 *
 * EXAMPLES
 *	logbus-top --bus app
 *	logbus-top --bus demo --interval 0.5 --exit-when-idle 3
 */
#include <curses.h>
#include <errno.h>
#include <getopt.h>
#include <langinfo.h>
#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bus.h"
#include "clock.h"
#include "report.h"
#include "view.h"
#include "version.h"

enum {
	EXIT_DOWN = 1,
	EXIT_USAGE = 2,
};

#define HISTORY 240            /* sparkline points kept */
#define SPARK_WINDOW_NS (60 * 1000000000ull)
#define INTERVAL_MIN 0.25
#define INTERVAL_MAX 10.0
#define TOP_ROWS 4             /* header lines above the tables */

enum sort_key {
	SORT_RATE,
	SORT_TOTAL,
	SORT_DROPS,
	SORT_NAME,
	SORT_KEYS,
};

static const char *const sort_names[SORT_KEYS] = { "rate", "total", "drops", "name" };

enum colour {
	C_OK = 1,
	C_WARN,
	C_BAD,
	C_BAR,
};

static const char usage[] =
	"Usage: logbus-top [--bus NAME] [--interval SECONDS] [--exit-when-idle SECONDS]\n"
	"Watch a logbus bus live: writer state, rates, fill, clients, sinks and hooks.\n"
	"\n"
	"  -b, --bus NAME              bus to watch (default: $LOGBUS_BUS, else \"default\")\n"
	"  -i, --interval SECONDS      refresh every SECONDS, 0.25..10 (default: 1)\n"
	"  -x, --exit-when-idle SECS   exit once no entry was written for SECS seconds\n"
	"  -h, --help                  this text\n"
	"  -V, --version               print the version\n"
	"\n"
	"Keys: q quit, s sort, p pause, + and - interval, h help.\n"
	"Exit status: 0 quit or idle, 1 no such bus or terminal, 2 usage.\n";

/* A line of one of the tables, whatever it shows. */
struct row {
	const char *name;
	uint64_t id;         /* pid, or the index for sinks and hooks */
	double rate;
	uint64_t total;
	uint64_t drops;
	uint32_t index;      /* into the sample's array */
};

struct point {
	uint64_t t_ns;
	double rate;
};

struct top {
	const char *bus;
	double interval;
	double exit_idle;          /* seconds; 0: never */
	enum sort_key sort;
	bool paused, help, utf8;
	struct mon_sample cur, prev;
	bool have_cur, have_prev;
	char error[256];           /* why the last read failed, "" when it did not */
	struct point history[HISTORY];
	size_t nhistory;
	uint64_t last_written, last_change_ns;
	struct row *rows;
	size_t rows_cap;
};

static int parse_args(int argc, char **argv, struct top *t)
{
	static const struct option longopts[] = {
		{ "bus", required_argument, NULL, 'b' },
		{ "interval", required_argument, NULL, 'i' },
		{ "exit-when-idle", required_argument, NULL, 'x' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	int c;

	t->bus = lb_bus_default_name();
	t->interval = 1.0;
	while ((c = getopt_long(argc, argv, "b:i:x:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'b':
			t->bus = optarg;
			break;
		case 'i':
			if (mon_parse_seconds("logbus-top", "--interval", optarg, INTERVAL_MIN,
					      INTERVAL_MAX, &t->interval) < 0)
				return -EINVAL;
			break;
		case 'x':
			if (mon_parse_seconds("logbus-top", "--exit-when-idle", optarg, 0.1, 86400,
					      &t->exit_idle) < 0)
				return -EINVAL;
			break;
		default:
			return lb_tool_option(c, "logbus-top", usage, usage);
		}
	}
	if (optind < argc) {
		fprintf(stderr, "logbus-top: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	return 0;
}

/* ---- sampling ---- */

static uint64_t dt_ns(const struct top *t)
{
	return t->have_prev && mon_same_writer(&t->cur, &t->prev)
		       ? t->cur.taken_ns - t->prev.taken_ns : 0;
}

static void history_add(struct top *t)
{
	double rate = mon_rate(t->cur.s.bus.written, t->prev.s.bus.written, dt_ns(t));

	if (!dt_ns(t))
		return;
	if (t->nhistory == HISTORY) {
		memmove(t->history, t->history + 1, (HISTORY - 1) * sizeof(t->history[0]));
		t->nhistory--;
	}
	t->history[t->nhistory++] = (struct point){ t->cur.taken_ns, rate };
}

/* Read a new sample; keeps the last good one on failure. */
static void sample(struct top *t)
{
	struct mon_sample m;

	if (mon_sample_read(t->bus, &m, t->error, sizeof(t->error)) < 0) {
		t->cur.state = MON_DEAD;
		return;
	}
	t->error[0] = '\0';
	if (t->have_prev)
		mon_sample_free(&t->prev);
	t->prev = t->cur;
	t->have_prev = t->have_cur;
	t->cur = m;
	t->have_cur = true;
	history_add(t);
	if (m.s.bus.written != t->last_written || !t->last_change_ns) {
		t->last_written = m.s.bus.written;
		t->last_change_ns = m.taken_ns;
	}
}

/* ---- rows and sorting ---- */

static int row_cmp_key;

static int row_cmp(const void *pa, const void *pb)
{
	const struct row *a = pa, *b = pb;
	int by_name = strcmp(a->name, b->name);

	switch (row_cmp_key) {
	case SORT_RATE:
		if (a->rate != b->rate)
			return a->rate < b->rate ? 1 : -1;
		break;
	case SORT_TOTAL:
		if (a->total != b->total)
			return a->total < b->total ? 1 : -1;
		break;
	case SORT_DROPS:
		if (a->drops != b->drops)
			return a->drops < b->drops ? 1 : -1;
		break;
	default:
		break;
	}
	if (by_name)
		return by_name;
	return a->id < b->id ? -1 : a->id > b->id;
}

static struct row *rows_get(struct top *t, size_t n)
{
	if (n > t->rows_cap) {
		struct row *r = realloc(t->rows, n * sizeof(*r));
		if (!r)
			return NULL;
		t->rows = r;
		t->rows_cap = n;
	}
	return t->rows;
}

static void rows_sort(struct top *t, size_t n)
{
	row_cmp_key = t->sort;
	qsort(t->rows, n, sizeof(*t->rows), row_cmp);
}

static size_t client_rows(struct top *t)
{
	const struct lb_stats_snapshot *s = &t->cur.s;
	struct row *r = rows_get(t, s->nclients);
	size_t n = 0;

	for (uint32_t i = 0; r && i < s->nclients; i++) {
		const struct lb_stats_client *c = &s->clients[i];
		const struct lb_stats_client *old =
			t->have_prev ? mon_client_find(&t->prev, c) : NULL;
		if (c->state == LB_STATS_CLIENT_FREE)
			continue;
		r[n++] = (struct row){
			.name = c->comm, .id = c->pid, .total = c->published, .index = i,
			.drops = c->dropped_full + c->dropped_too_large + c->dropped_abandoned,
			.rate = old ? mon_rate(c->published, old->published, dt_ns(t)) : 0,
		};
	}
	rows_sort(t, n);
	return n;
}

static size_t sink_rows(struct top *t)
{
	const struct lb_stats_snapshot *s = &t->cur.s;
	struct row *r = rows_get(t, s->nsinks);

	for (uint32_t i = 0; r && i < s->nsinks; i++) {
		const struct lb_stats_sink *k = &s->sinks[i];
		bool old = t->have_prev && i < t->prev.s.nsinks;
		r[i] = (struct row){
			.name = k->name, .id = i, .total = k->written, .index = i,
			.drops = k->errors + k->dropped,
			.rate = old ? mon_rate(k->written, t->prev.s.sinks[i].written, dt_ns(t)) : 0,
		};
	}
	rows_sort(t, r ? s->nsinks : 0);
	return r ? s->nsinks : 0;
}

static size_t hook_rows(struct top *t)
{
	const struct lb_stats_snapshot *s = &t->cur.s;
	struct row *r = rows_get(t, s->nhooks);

	for (uint32_t i = 0; r && i < s->nhooks; i++) {
		const struct lb_stats_hook *h = &s->hooks[i];
		bool old = t->have_prev && i < t->prev.s.nhooks;
		r[i] = (struct row){
			.name = h->name, .id = i, .total = h->calls, .index = i,
			.drops = h->errors + h->timeouts + h->queue_drops,
			.rate = old ? mon_rate(h->calls, t->prev.s.hooks[i].calls, dt_ns(t)) : 0,
		};
	}
	rows_sort(t, r ? s->nhooks : 0);
	return r ? s->nhooks : 0;
}

/* ---- drawing ---- */

static void put_attr(int y, int x, int attr, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void put_attr(int y, int x, int attr, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	if (y >= LINES || x >= COLS)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	attron(attr);
	mvaddnstr(y, x, buf, COLS - x);
	attroff(attr);
}

static int state_attr(enum mon_state st)
{
	if (!has_colors())
		return st == MON_ALIVE ? A_BOLD : A_REVERSE | A_BOLD;
	return A_BOLD | COLOR_PAIR(st == MON_ALIVE ? C_OK : st == MON_STALLED ? C_WARN : C_BAD);
}

static void draw_header(const struct top *t)
{
	const struct lb_stats_snapshot *s = &t->cur.s;
	bool dead = t->cur.state == MON_DEAD;
	char ups[24], pid[16] = "-";
	int x, y;

	if (s->writer_pid > 0)
		snprintf(pid, sizeof(pid), "%d", (int)s->writer_pid);
	put_attr(0, 0, A_BOLD, "logbus-top");
	put_attr(0, 11, 0, " bus %s  writer %s ", t->bus, pid);
	getyx(stdscr, y, x);
	if (dead)
		put_attr(0, x, state_attr(MON_DEAD), " WRITER DEAD ");
	else
		put_attr(0, x, state_attr(t->cur.state), "%s", mon_state_name(t->cur.state));
	getyx(stdscr, y, x);
	(void)y;
	put_attr(0, x, 0, "  %s %s  every %.2gs%s", dead ? "ran" : "up",
		 mon_fmt_uptime(ups, mon_uptime_s(&t->cur)), t->interval,
		 t->paused ? "  [PAUSED]" : "");
	if (t->error[0])
		put_attr(1, 0, state_attr(MON_DEAD), "%s", t->error);
}

static void draw_rates(const struct top *t)
{
	const struct lb_stats_bus *b = &t->cur.s.bus, *o = &t->prev.s.bus;
	uint64_t dt = t->cur.state == MON_DEAD ? 0 : dt_ns(t);
	uint64_t drops = b->dropped_full + b->dropped_too_large + b->dropped_no_lane +
			 b->dropped_abandoned;
	uint64_t odrops = o->dropped_full + o->dropped_too_large + o->dropped_no_lane +
			  o->dropped_abandoned;
	char in[16], out[16], dr[16], w[16], wait[16], d[16];

	if (t->error[0])
		return;
	put_attr(1, 0, 0, "in %s/s  out %s/s  dropped %s/s   written %s  waiting %s  dropped %s "
		 "(full %llu, large %llu, abandoned %llu)",
		 mon_fmt_count(in, mon_rate(b->published, o->published, dt)),
		 mon_fmt_count(out, mon_rate(b->written, o->written, dt)),
		 mon_fmt_count(dr, mon_rate(drops, odrops, dt)),
		 mon_fmt_count(w, (double)b->written), mon_fmt_count(wait, (double)b->waiting),
		 mon_fmt_count(d, (double)drops),
		 (unsigned long long)b->dropped_full, (unsigned long long)b->dropped_too_large,
		 (unsigned long long)b->dropped_abandoned);
}

/* A gauge of width cells for ratio 0..1 at (y, x). */
static void draw_gauge(int y, int x, int width, double ratio)
{
	int fill = (int)(ratio * width + 0.5);

	if (ratio > 0 && fill == 0)
		fill = 1;
	put_attr(y, x, 0, "[");
	for (int i = 0; i < width; i++)
		put_attr(y, x + 1 + i, i < fill ? A_REVERSE | COLOR_PAIR(C_BAR) : 0, " ");
	put_attr(y, x + 1 + width, 0, "]");
}

static void draw_fill(const struct top *t)
{
	const struct lb_stats_bus *b = &t->cur.s.bus;
	double cap = (double)b->lane_count * (double)b->lane_size;
	double ratio = cap > 0 ? (double)b->fill_bytes / cap : 0;
	struct report_quantiles q;
	char p50[16], p99[16], p999[16];

	report_quantiles_get(&t->cur.s.latency, &q);
	put_attr(2, 0, 0, "fill");
	draw_gauge(2, 5, 10, ratio > 1 ? 1 : ratio);
	put_attr(2, 18, 0, "%5.1f%%  lanes %llu/%llu  latency p50 %s p99 %s p99.9 %s",
		 ratio * 100, (unsigned long long)b->lanes_in_use,
		 (unsigned long long)b->lane_count, mon_fmt_ns(p50, q.p50), mon_fmt_ns(p99, q.p99),
		 mon_fmt_ns(p999, q.p999));
}

static void draw_spark(const struct top *t)
{
	static const char *const blocks[] = { "\u2581", "\u2582", "\u2583", "\u2584",
					      "\u2585", "\u2586", "\u2587", "\u2588" };
	static const char ascii[] = "_.-~=+*#";
	int width = COLS - 24;
	size_t first = t->nhistory;
	double max = 0;
	char m[16];

	while (first > 0 && t->history[first - 1].t_ns + SPARK_WINDOW_NS >= t->cur.taken_ns &&
	       (int)(t->nhistory - first) < width)
		first--;
	for (size_t i = first; i < t->nhistory; i++)
		if (t->history[i].rate > max)
			max = t->history[i].rate;
	put_attr(3, 0, 0, "out/s 1m");
	for (size_t i = first; i < t->nhistory; i++) {
		int level = max > 0 ? (int)(t->history[i].rate / max * 7 + 0.5) : 0;
		int x = 9 + (int)(i - first);
		if (t->utf8)
			put_attr(3, x, COLOR_PAIR(C_OK), "%s", blocks[level]);
		else
			put_attr(3, x, 0, "%c", ascii[level]);
	}
	put_attr(3, 10 + (int)(t->nhistory - first), 0, "max %s/s", mon_fmt_count(m, max));
}

static void draw_title(int y, const char *title, const char *cols, enum sort_key sort)
{
	put_attr(y, 0, A_BOLD, "%s", title);
	put_attr(y, (int)strlen(title), 0, "  (sort: %s)", sort_names[sort]);
	put_attr(y + 1, 0, A_REVERSE, "%-*s", COLS, cols);
}

static void ago(char buf[24], const struct top *t, uint64_t ns)
{
	uint64_t now = t->cur.taken_real_ns;

	if (!ns || ns > now)
		snprintf(buf, 24, "-");
	else
		mon_fmt_uptime(buf, (now - ns) / 1000000000u);
}

/* The clients table in rows [y, y + height); returns the rows used. */
static int draw_clients(struct top *t, int y, int height)
{
	size_t n = client_rows(t);
	int used = 2;

	draw_title(y, "CLIENTS", "    PID PROGRAM         LANE  PUBLISHED     RATE  DROPPED"
		   "  FILL             LAST", t->sort);
	for (size_t i = 0; i < n && used < height; i++, used++) {
		const struct lb_stats_client *c = &t->cur.s.clients[t->rows[i].index];
		double fill = t->cur.s.bus.lane_size
				      ? (double)c->fill_bytes / (double)t->cur.s.bus.lane_size : 0;
		char pub[16], rate[16], drop[16], last[24];

		put_attr(y + used, 0, 0, "%7llu %-15s %4llu %10s %8s %8s",
			 (unsigned long long)c->pid, c->comm, (unsigned long long)c->lane,
			 mon_fmt_count(pub, (double)c->published),
			 mon_fmt_count(rate, t->rows[i].rate),
			 mon_fmt_count(drop, (double)t->rows[i].drops));
		draw_gauge(y + used, 58, 6, fill > 1 ? 1 : fill);
		ago(last, t, c->last_publish_ns);
		put_attr(y + used, 67, 0, "%12s", last);
	}
	if (n == 0 && used < height)
		put_attr(y + used++, 2, 0, "(no clients)");
	return used;
}

static int draw_sinks(struct top *t, int y, int height)
{
	size_t n = sink_rows(t);
	int used = 2;

	draw_title(y, "SINKS", "NAME                WRITTEN     RATE      BYTES  ERRORS"
		   "  DROPPED  MEAN WRITE", t->sort);
	for (size_t i = 0; i < n && used < height; i++, used++) {
		const struct lb_stats_sink *s = &t->cur.s.sinks[t->rows[i].index];
		char w[16], rate[16], bytes[16], mean[16];

		put_attr(y + used, 0, s->last_error ? state_attr(MON_STALLED) : 0,
			 "%-16s %10s %8s %10s %7llu %8llu  %s", s->name,
			 mon_fmt_count(w, (double)s->written), mon_fmt_count(rate, t->rows[i].rate),
			 mon_fmt_count(bytes, (double)s->bytes), (unsigned long long)s->errors,
			 (unsigned long long)s->dropped,
			 mon_fmt_ns(mean, s->batches ? s->latency_ns_sum / s->batches : 0));
	}
	if (n == 0 && used < height)
		put_attr(y + used++, 2, 0, "(no sinks)");
	return used;
}

static int draw_hooks(struct top *t, int y, int height)
{
	size_t n = hook_rows(t);
	int used = 2;

	draw_title(y, "HOOKS", "NAME           TYPE    MATCHED    CALLS     RATE ERRORS TIMEOUTS"
		   " QDROPS MEAN", t->sort);
	for (size_t i = 0; i < n && used < height; i++, used++) {
		const struct lb_stats_hook *h = &t->cur.s.hooks[t->rows[i].index];
		char m[16], c[16], rate[16], mean[16];

		put_attr(y + used, 0, 0, "%-14s %-6s %8s %8s %8s %6llu %8llu %6llu %s", h->name,
			 h->type, mon_fmt_count(m, (double)h->matched),
			 mon_fmt_count(c, (double)h->calls), mon_fmt_count(rate, t->rows[i].rate),
			 (unsigned long long)h->errors, (unsigned long long)h->timeouts,
			 (unsigned long long)h->queue_drops,
			 mon_fmt_ns(mean, h->calls ? h->time_ns_sum / h->calls : 0));
	}
	if (n == 0 && used < height)
		put_attr(y + used++, 2, 0, "(no hooks)");
	return used;
}

static void draw_footer(const struct top *t)
{
	put_attr(LINES - 1, 0, A_REVERSE, "%-*s", COLS,
		 t->paused ? " q quit  s sort  p resume  + - interval  h help   PAUSED"
			   : " q quit  s sort  p pause  + - interval  h help");
}

static void draw_help(void)
{
	static const char *const lines[] = {
		"logbus-top keys",
		"",
		"  q      quit",
		"  s      sort by rate, total, drops, name",
		"  p      pause or resume the refresh",
		"  +      refresh less often (longer interval)",
		"  -      refresh more often",
		"  h      this help; any key closes it",
	};
	int h = (int)(sizeof(lines) / sizeof(lines[0])) + 2, w = 50;
	int y = (LINES - h) / 2, x = (COLS - w) / 2;

	for (int i = 0; i < h; i++)
		put_attr(y + i, x < 0 ? 0 : x, A_REVERSE, "  %-*s", w - 2,
			 i > 0 && i < h - 1 ? lines[i - 1] : "");
}

/* The tables share what the header leaves: sinks and hooks get their rows
 * (at least one each), clients the rest. */
static void draw(struct top *t)
{
	int avail = LINES - TOP_ROWS - 1;
	int sinks = 2 + (t->cur.s.nsinks ? (int)t->cur.s.nsinks : 1);
	int hooks = 2 + (t->cur.s.nhooks ? (int)t->cur.s.nhooks : 1);
	int clients = avail - sinks - hooks;
	int y = TOP_ROWS;

	if (clients < 4) {
		clients = 4;
		sinks = hooks = 3;
	}
	erase();
	draw_header(t);
	draw_rates(t);
	draw_fill(t);
	draw_spark(t);
	y += draw_clients(t, y, clients > avail ? avail : clients);
	if (y < LINES - 1)
		y += draw_sinks(t, y, sinks < LINES - 1 - y ? sinks : LINES - 1 - y);
	if (y < LINES - 1)
		draw_hooks(t, y, hooks < LINES - 1 - y ? hooks : LINES - 1 - y);
	draw_footer(t);
	if (t->help)
		draw_help();
	refresh();
}

/* ---- main loop ---- */

static void screen_init(struct top *t)
{
	t->utf8 = !strcmp(nl_langinfo(CODESET), "UTF-8");
	initscr();
	cbreak();
	noecho();
	keypad(stdscr, TRUE);
	curs_set(0);
	if (has_colors()) {
		start_color();
		use_default_colors();
		init_pair(C_OK, COLOR_GREEN, -1);
		init_pair(C_WARN, COLOR_YELLOW, -1);
		init_pair(C_BAD, COLOR_RED, -1);
		init_pair(C_BAR, COLOR_CYAN, -1);
	}
}

/* Handle key ch; returns false to quit. */
static bool on_key(struct top *t, int ch)
{
	if (t->help && ch != ERR && ch != KEY_RESIZE) {
		t->help = false;
		return true;
	}
	switch (ch) {
	case 'q':
	case 'Q':
		return false;
	case 's':
		t->sort = (t->sort + 1) % SORT_KEYS;
		break;
	case 'p':
		t->paused = !t->paused;
		break;
	case '+':
		t->interval = t->interval * 2 > INTERVAL_MAX ? INTERVAL_MAX : t->interval * 2;
		break;
	case '-':
		t->interval = t->interval / 2 < INTERVAL_MIN ? INTERVAL_MIN : t->interval / 2;
		break;
	case 'h':
	case '?':
		t->help = true;
		break;
	default:
		break;
	}
	return true;
}

static bool idle_too_long(const struct top *t, uint64_t now)
{
	/* The last change may be newer than now: a sample taken since. */
	return t->exit_idle > 0 && now > t->last_change_ns &&
	       now - t->last_change_ns >= (uint64_t)(t->exit_idle * 1e9);
}

static void run(struct top *t)
{
	uint64_t next = 0;

	for (;;) {
		uint64_t now = lb_clock_ns(CLOCK_MONOTONIC);
		if (now >= next) {
			if (!t->paused)
				sample(t);
			next = now + (uint64_t)(t->interval * 1e9);
			draw(t);
		}
		if (idle_too_long(t, now))
			return;
		timeout((int)((next - now) / 1000000u) + 1);
		int ch = getch();
		if (ch == ERR)
			continue;
		if (!on_key(t, ch))
			return;
		draw(t);
	}
}

int main(int argc, char **argv)
{
	struct top t = { 0 };

	setlocale(LC_ALL, "");
	if (parse_args(argc, argv, &t) < 0)
		return EXIT_USAGE;
	if (mon_sample_read(t.bus, &t.cur, t.error, sizeof(t.error)) < 0) {
		fprintf(stderr, "logbus-top: %s\n", t.error);
		return EXIT_DOWN;
	}
	t.have_cur = true;
	t.last_written = t.cur.s.bus.written;
	t.last_change_ns = t.cur.taken_ns;
	if (!isatty(STDOUT_FILENO) || !isatty(STDIN_FILENO)) {
		fprintf(stderr, "logbus-top: needs a terminal (try logbus-stat for a report)\n");
		mon_sample_free(&t.cur);
		return EXIT_DOWN;
	}
	screen_init(&t);
	run(&t);
	endwin();
	mon_sample_free(&t.cur);
	if (t.have_prev)
		mon_sample_free(&t.prev);
	free(t.rows);
	return 0;
}
