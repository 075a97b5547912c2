/* SPDX-License-Identifier: MIT */
/* Test harness: a writer on a private bus, and the entries it wrote. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "bus.h"
#include "harness.h"
#include "logbus.h"
#include "register.h"
#include "stats.h"

const char *harness_writer_path(void)
{
	const char *env = getenv("LOGBUS_TEST_WRITER");
	return env ? env : LOGBUS_WRITER_PATH;
}

pid_t harness_fork(void)
{
	pid_t parent = getpid();
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0 && (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent))
		_exit(127);
	return pid;
}

void harness_init(struct harness *h, const char *test)
{
	static unsigned counter;
	const char *tmp = getenv("TMPDIR");

	*h = (struct harness){ .writer = 0 };
	snprintf(h->bus, sizeof(h->bus), "t-%.30s-%d-%u", test, (int)getpid(), counter++);
	snprintf(h->dir, sizeof(h->dir), "%s/logbus-%s", tmp && *tmp ? tmp : "/tmp", h->bus);
	(void)lb_bus_unlink(h->bus);
}

static void sleep_ms(int ms)
{
	nanosleep(&(struct timespec){ .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L },
		  NULL);
}

/* Wait until the bus exists and names pid as its writer. */
static bool writer_ready(const char *name, pid_t pid)
{
	struct lb_bus bus;
	bool ready;

	if (lb_bus_attach(name, false, &bus, NULL) < 0)
		return false;
	ready = lb_bus_writer_pid(&bus) == pid;
	lb_bus_detach(&bus);
	return ready;
}

void harness_start_writer(struct harness *h, const char *const *extra)
{
	const char *argv[32] = { harness_writer_path(), "--bus", h->bus, "--dir", h->dir };
	int argc = 5;
	pid_t pid;

	for (; extra && *extra && argc < 31; extra++)
		argv[argc++] = *extra;
	argv[argc] = NULL;
	pid = harness_fork();
	if (pid == 0) {
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	for (int i = 0; i < 500 && !writer_ready(h->bus, pid); i++) {
		int status;
		if (waitpid(pid, &status, WNOHANG) == pid)
			fail_msg("logbus-writer exited during start-up, status %d", status);
		sleep_ms(10);
	}
	assert_true(writer_ready(h->bus, pid));
	h->writer = pid;
}

void harness_wait_exit(pid_t pid, int status)
{
	int st;

	assert_int_equal(waitpid(pid, &st, 0), pid);
	if (!WIFEXITED(st))
		fail_msg("process %d did not exit: status 0x%x", (int)pid, st);
	assert_int_equal(WEXITSTATUS(st), status);
}

void harness_stop_writer(struct harness *h)
{
	assert_true(h->writer > 0);
	assert_int_equal(kill(h->writer, SIGTERM), 0);
	harness_wait_exit(h->writer, 0);
	h->writer = 0;
}

void harness_kill_writer(struct harness *h)
{
	assert_true(h->writer > 0);
	assert_int_equal(kill(h->writer, SIGKILL), 0);
	assert_int_equal(waitpid(h->writer, NULL, 0), h->writer);
	h->writer = 0;
}

static int remove_tree(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char path[512];

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (unlink(path) < 0 && errno == EISDIR)
			remove_tree(path);
	}
	closedir(d);
	return rmdir(dir);
}

void harness_fini(struct harness *h)
{
	if (h->writer > 0) {
		kill(h->writer, SIGKILL);
		waitpid(h->writer, NULL, 0);
		h->writer = 0;
	}
	(void)lb_bus_unlink(h->bus);
	(void)lb_stats_unlink(h->bus);
	(void)remove_tree(h->dir);
	/* What the helpers keep beside the directory (outfiles.c): the
	 * configuration <dir>.json and the writer's stderr <dir>.err. */
	for (size_t i = 0; i < 2; i++) {
		char path[sizeof(h->dir) + 8];
		snprintf(path, sizeof(path), "%s%s", h->dir, i ? ".err" : ".json");
		(void)unlink(path);
	}
}

struct harness *harness_new(const char *test)
{
	struct harness *h = malloc(sizeof(*h));

	assert_non_null(h);
	harness_init(h, test);
	return h;
}

int harness_teardown(void **state)
{
	harness_fini(*state);
	free(*state);
	return 0;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void harness_each_line(const char *path, harness_entry_fn fn, void *ctx)
{
	FILE *f = fopen(path, "re");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	unsigned lineno = 0;

	assert_non_null(f);
	while ((n = getline(&line, &cap, f)) > 0) {
		json_error_t err;
		json_t *v;

		lineno++;
		if (line[n - 1] != '\n')
			fail_msg("%s:%u: last line is cut (no newline)", path, lineno);
		v = json_loadb(line, (size_t)n, JSON_ALLOW_NUL, &err);
		if (!v)
			fail_msg("%s:%u: invalid JSON: %s", path, lineno, err.text);
		fn(v, ctx);
		json_decref(v);
	}
	free(line);
	fclose(f);
}

void harness_each_entry(const struct harness *h, harness_entry_fn fn, void *ctx)
{
	DIR *d = opendir(h->dir);
	struct dirent *de;
	char *names[4096];
	size_t n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) && n < 4096) {
		size_t len = strlen(de->d_name);
		if (len > 6 && !strcmp(de->d_name + len - 6, ".jsonl"))
			names[n++] = strdup(de->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(names[0]), name_cmp);
	for (size_t i = 0; i < n; i++) {
		char path[512];
		snprintf(path, sizeof(path), "%s/%s", h->dir, names[i]);
		harness_each_line(path, fn, ctx);
		free(names[i]);
	}
}

void harness_append(json_t *e, void *all)
{
	json_array_append(all, e);
}

json_t *harness_entries(const struct harness *h)
{
	json_t *out = json_array();

	harness_each_entry(h, harness_append, out);
	return out;
}

/* Keep the entries tagged ctx->tag. */
struct tagged {
	const char *tag;
	json_t *out;
};

static void keep_tagged(json_t *e, void *ctx)
{
	struct tagged *t = ctx;
	const char *tag = json_string_value(json_object_get(e, "tag"));

	if (tag && !strcmp(tag, t->tag))
		json_array_append(t->out, e);
}

json_t *harness_tagged(const struct harness *h, const char *tag)
{
	struct tagged t = { .tag = tag, .out = json_array() };

	harness_each_entry(h, keep_tagged, &t);
	return t.out;
}

const char *harness_entry_str(json_t *entries, size_t i, const char *key)
{
	json_t *e = json_array_get(entries, i);

	if (!e)
		fail_msg("no entry %zu (there are %zu)", i, json_array_size(entries));
	if (!strncmp(key, "fields.", 7)) {
		e = json_object_get(e, "fields");
		key += 7;
	}
	return json_string_value(json_object_get(e, key));
}

void harness_expect_str(json_t *entries, size_t i, const char *key, const char *want)
{
	const char *got = harness_entry_str(entries, i, key);

	if (!got || strcmp(got, want))
		fail_msg("entry %zu: %s is '%s', want '%s'", i, key, got ? got : "(none)", want);
}

void *harness_shared(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	assert_true(p != MAP_FAILED);
	return p;
}

/* The positions of slot i's lane file, read through a mapping of it. */
static void lane_positions(const struct lb_registry *reg, uint32_t i, struct harness_lane *out)
{
	struct lb_lane_map m;
	int fd = lb_lane_file_open(reg, i, out->grant);
	if (fd < 0)
		return;   /* freed meanwhile */
	if (lb_lane_map(fd, reg->lane_size, &m) == 0) {
		out->head = atomic_load_explicit(&m.lane->head, memory_order_acquire);
		out->tail = atomic_load_explicit(&m.lane->tail, memory_order_relaxed);
		out->blocked = atomic_load_explicit(&m.lane->blocked, memory_order_relaxed) != 0;
		lb_lane_unmap(&m);
	}
	close(fd);
}

unsigned harness_lanes(const struct harness *h, struct harness_lane *out, unsigned max)
{
	char dir[LB_BUS_PATH_MAX + 32];
	struct lb_registry reg;
	unsigned n;

	assert_int_equal(lb_registry_view(h->bus, &reg), 0);
	assert_int_equal(lb_registry_dir(h->bus, dir, sizeof(dir)), 0);
	reg.dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(reg.dirfd >= 0);
	n = reg.slot_count;
	for (unsigned i = 0; i < n && i < max; i++) {
		const struct lb_slot *s = &reg.slots[i];
		out[i] = (struct harness_lane){
			.state = atomic_load_explicit(&s->state, memory_order_acquire),
			.pid = s->who.pid,
			.tid = s->tid,
			.grant = atomic_load_explicit(&s->grant, memory_order_relaxed),
			.head = atomic_load_explicit(&s->tail, memory_order_relaxed),
			.tail = atomic_load_explicit(&s->tail, memory_order_relaxed),
		};
		if (out[i].state == LB_SLOT_GRANTED || out[i].state == LB_SLOT_RELEASED)
			lane_positions(&reg, i, &out[i]);
	}
	lb_registry_close(&reg);
	return n;
}

uint64_t harness_grants(const struct harness *h)
{
	struct lb_registry reg;
	uint64_t n;

	assert_int_equal(lb_registry_view(h->bus, &reg), 0);
	n = atomic_load_explicit(&reg.hdr->next_grant, memory_order_relaxed);
	lb_registry_close(&reg);
	return n;
}

int harness_raw_connect(const struct harness *h)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int sock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	assert_true(sock >= 0);
	assert_int_equal(lb_reg_socket_path(h->bus, a.sun_path, sizeof(a.sun_path)), 0);
	if (connect(sock, (struct sockaddr *)&a, sizeof(a)) < 0)
		fail_msg("cannot connect to %s: %s", a.sun_path, strerror(errno));
	return sock;
}

int harness_raw_lane(const struct harness *h, int sock, struct harness_raw_lane *l, char *why)
{
	struct lb_reg_msg m = { .version = LB_REG_VERSION, .type = LB_REG_LANE,
				.tid = (uint32_t)gettid() };
	struct lb_bus bus;
	int fd;

	*l = (struct harness_raw_lane){ .sock = sock };
	assert_int_equal(lb_reg_send(sock, &m, -1), 0);
	assert_int_equal(lb_reg_recv(sock, &m, &fd), 0);
	if (m.type == LB_REG_REFUSE) {
		assert_true(fd < 0);
		if (why)
			memcpy(why, m.text, LB_REG_TEXT_MAX);
		return m.error < 0 ? m.error : -EPROTO;
	}
	assert_int_equal(m.type, LB_REG_GRANT);
	assert_true(fd >= 0);
	assert_int_equal(lb_bus_attach(h->bus, false, &bus, NULL), 0);
	assert_int_equal(lb_lane_map(fd, bus.lane_size, &l->map), 0);
	close(fd);
	l->slot = m.slot;
	l->grant = m.grant;
	lb_producer_init(&l->prod, &l->map, &bus, m.slot, false);
	lb_bus_detach(&bus);
	return 0;
}

void harness_raw_release(struct harness_raw_lane *l)
{
	struct lb_reg_msg m = { .version = LB_REG_VERSION, .type = LB_REG_RELEASE,
				.slot = l->slot, .grant = l->grant };

	assert_int_equal(lb_reg_send(l->sock, &m, -1), 0);
	lb_lane_unmap(&l->map);
}

unsigned harness_free_lanes(const struct harness *h)
{
	struct harness_lane lanes[LB_MAX_LANES];
	unsigned n = harness_lanes(h, lanes, LB_MAX_LANES), free_lanes = 0;

	for (unsigned i = 0; i < n && i < LB_MAX_LANES; i++)
		free_lanes += lanes[i].state == LB_SLOT_FREE;
	return free_lanes;
}

void harness_wait_free_lanes(const struct harness *h, unsigned n)
{
	unsigned got = 0;

	for (int i = 0; i < 1000 && (got = harness_free_lanes(h)) < n; i++)
		sleep_ms(10);
	if (got < n) {
		struct harness_lane info[64];
		unsigned lanes = harness_lanes(h, info, 64);
		for (unsigned i = 0; i < lanes && i < 64; i++)
			print_error("lane %u: state %u, pid %u tid %u, grant %llu, head %llu, "
				    "tail %llu\n", i, info[i].state, info[i].pid, info[i].tid,
				    (unsigned long long)info[i].grant,
				    (unsigned long long)info[i].head,
				    (unsigned long long)info[i].tail);
		fail_msg("%u lanes free after 10 s, expected at least %u", got, n);
	}
}

void harness_sleep_us(long us)
{
	nanosleep(&(struct timespec){ .tv_sec = us / 1000000, .tv_nsec = us % 1000000 * 1000 },
		  NULL);
}

void harness_paced(const char *bus, const char *tag, int total, int rate,
		   volatile int *progress)
{
	logbus_t *lb = logbus_open(bus);
	struct timespec next;

	if (!lb)
		_exit(2);
	clock_gettime(CLOCK_MONOTONIC, &next);
	for (int i = 0; i < total; i++) {
		char v[16];
		int n = snprintf(v, sizeof(v), "%d", i), r;
		while ((r = logbus_publish(lb, LOGBUS_INFO, tag, v, (size_t)n)) == -EAGAIN)
			harness_sleep_us(1000);
		if (r != 0)
			_exit(3);
		if (progress)
			*progress = i + 1;
		next.tv_nsec += 1000000000L / rate;
		if (next.tv_nsec >= 1000000000L) {
			next.tv_sec++;
			next.tv_nsec -= 1000000000L;
		}
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
	}
	logbus_close(lb);
	_exit(0);
}

void harness_self(struct harness_self *s)
{
	FILE *f = fopen("/proc/self/comm", "re");
	ssize_t n;

	s->uid = (unsigned)geteuid();
	s->gid = (unsigned)getegid();
	assert_non_null(f);
	assert_non_null(fgets(s->comm, sizeof(s->comm), f));
	fclose(f);
	s->comm[strcspn(s->comm, "\n")] = '\0';
	n = readlink("/proc/self/exe", s->exe, sizeof(s->exe));
	assert_true(n > 0 && (size_t)n < sizeof(s->exe));
	s->exe[n] = '\0';
}
