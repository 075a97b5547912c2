/* SPDX-License-Identifier: MIT */
/*
 * An entry as the fields of a journal entry. Fields of an entry:
 *
 *   MESSAGE            the message, as it is
 *   PRIORITY           the level, 0..7
 *   SYSLOG_IDENTIFIER  identifier_prefix + tag
 *   SYSLOG_PID         the client's pid (journald's own _PID is ours)
 *   OBJECT_PID         the client's pid, the field with which journald's
 *                      privileged clients (systemd itself) name a process
 *                      they speak for
 *   OBJECT_UID, OBJECT_GID, OBJECT_COMM, OBJECT_EXE
 *                      that process's, from us or from journald (below)
 *   LOGBUS_PID, LOGBUS_UID, LOGBUS_GID, LOGBUS_COMM, LOGBUS_EXE
 *                      the writer's word for the publishing process: pid,
 *                      uid and gid as the kernel gave them when it
 *                      registered (SO_PEERCRED), comm and exe as /proc
 *                      showed them then; for `journalctl LOGBUS_UID=`
 *   LOGBUS_TID         the client's thread id (its own word)
 *   LOGBUS_TS          when the client published it, RFC 3339 UTC with
 *                      nanoseconds, as the "ts" of the JSON files
 *   LOGBUS_SEQ         the writer's output sequence
 *   LOGBUS_LANE, LOGBUS_LANE_SEQ  where it came from (tells a replay after
 *                      a writer restart from a new entry)
 *   KEY                every user field, upper-cased
 *
 * The pid in all of them is the attested one: the drain stamps it on every
 * entry of a lane slot. An entry without an identity (a batch built by
 * hand) has the pid it says and no UID, GID, COMM or EXE of either kind;
 * an EXE that /proc would not tell is left out, as journald does.
 *
 * OBJECT_ fields, never one sent twice. journald (journald-native.c)
 * heeds OBJECT_PID only from a sender of uid 0 (allow_object_pid()), and
 * for it adds, when it receives the entry, what /proc/<OBJECT_PID> says
 * then (manager_dispatch_message() in journald-manager.c, once
 * journald-server.c): OBJECT_PID, OBJECT_UID, OBJECT_GID, OBJECT_COMM,
 * OBJECT_EXE, OBJECT_CMDLINE, OBJECT_CAP_EFFECTIVE, OBJECT_SELINUX_CONTEXT,
 * OBJECT_AUDIT_SESSION, OBJECT_AUDIT_LOGINUID and OBJECT_SYSTEMD_* (cgroup,
 * session, owner uid, unit, user unit, slice, user slice, invocation id).
 * So:
 * - a writer of uid 0 sends OBJECT_PID alone and leaves the rest to
 *   journald. journald's OBJECT_PID is ours, and the journal stores an
 *   entry's identical fields once; sending OBJECT_UID and the others too
 *   would store two values of each whenever journald's view differs.
 * - any other writer (the packaged unit runs as user logbus) sends
 *   OBJECT_PID, OBJECT_UID, OBJECT_GID, OBJECT_COMM and OBJECT_EXE itself,
 *   from the attested identity: journald adds none.
 * What journald adds describes whichever process has the pid when it
 * reads /proc: nothing once the client exited (an entry drained late, a
 * spool replayed), another process once the pid was reused. That is why
 * the LOGBUS_ identity goes with every entry, whatever the writer's uid:
 * it is the writer's word, as of registration, and the one to trust.
 * journald judges the uid it receives with the datagram (the writer's
 * real uid, in journald's user namespace): a writer that is root only in
 * a user namespace of its own gets neither; its LOGBUS_ fields remain.
 *
 * No CODE_FILE, CODE_LINE or CODE_FUNC: the entry has no code location
 * of its own, and the writer's would be a lie about it.
 *
 * journald keeps a field only when its name is [A-Z0-9_]{1,64} and starts
 * with neither '_' (trusted fields) nor a digit, and it would file a user
 * field named like one of ours as a second value of ours. Such a key is
 * renamed "F_" + KEY (cut to 64 characters), never dropped.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "journal_fields.h"
#include "text.h"

#define NAME_MAX_LEN 64

static const char *const ours[] = {
	"MESSAGE", "PRIORITY", "SYSLOG_IDENTIFIER", "SYSLOG_PID",
};

/* Prefixes of fields we or journald set. */
static const char *const our_prefixes[] = { "LOGBUS_", "OBJECT_" };

bool journal_fields_object_by_journald(void)
{
	return getuid() == 0;
}

/* Whether an upper-cased key would land on a field we set or journald
 * would refuse it. */
static bool name_needs_rename(const char *name, size_t len)
{
	if (len == 0 || name[0] == '_' || (name[0] >= '0' && name[0] <= '9'))
		return true;
	for (size_t i = 0; i < sizeof(our_prefixes) / sizeof(our_prefixes[0]); i++)
		if (len >= strlen(our_prefixes[i]) && !memcmp(name, our_prefixes[i], strlen(our_prefixes[i])))
			return true;
	for (size_t i = 0; i < sizeof(ours) / sizeof(ours[0]); i++)
		if (strlen(ours[i]) == len && !memcmp(ours[i], name, len))
			return true;
	return false;
}

/* Start a field: "<prefix><name>=". */
static void begin(struct journal_fields *f, const char *prefix, const char *name)
{
	f->offs[f->n++] = f->text.len;
	lb_buf_put(&f->text, prefix, strlen(prefix));
	lb_buf_put(&f->text, name, strlen(name));
	lb_buf_putc(&f->text, '=');
}

static void put_num(struct journal_fields *f, const char *prefix, const char *name, uint64_t v)
{
	begin(f, prefix, name);
	lb_buf_put_u64(&f->text, v);
}

/* A text field; none when the text is empty. */
static void put_text(struct journal_fields *f, const char *prefix, const char *name,
		     const char *v, size_t len)
{
	if (!len)
		return;
	begin(f, prefix, name);
	lb_buf_put(&f->text, v, len);
}

/* "<prefix>UID=", GID, COMM, EXE of who. */
static void put_identity(struct journal_fields *f, const char *prefix,
			 const struct lb_client_identity *who)
{
	put_num(f, prefix, "UID", who->uid);
	put_num(f, prefix, "GID", who->gid);
	put_text(f, prefix, "COMM", who->comm, strnlen(who->comm, sizeof(who->comm)));
	put_text(f, prefix, "EXE", who->exe, strnlen(who->exe, sizeof(who->exe)));
}

/* The fields every entry has, and its process's. */
static void put_fixed(struct journal_fields *f, const struct batch_entry *be, const char *prefix,
		      bool object_by_journald)
{
	const struct lb_entry *e = &be->e;
	const struct { const char *name; uint64_t v; } nums[] = {
		{ "SYSLOG_PID", e->pid }, { "OBJECT_PID", e->pid }, { "LOGBUS_PID", e->pid },
		{ "LOGBUS_TID", e->tid },
		{ "LOGBUS_SEQ", be->seq }, { "LOGBUS_LANE", be->lane },
		{ "LOGBUS_LANE_SEQ", e->seq },
	};

	begin(f, "", "PRIORITY");
	lb_buf_putc(&f->text, (char)('0' + (e->level & 7)));
	begin(f, "", "SYSLOG_IDENTIFIER");
	lb_buf_put(&f->text, prefix, strlen(prefix));
	lb_buf_put(&f->text, e->tag, e->tag_len);
	for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++)
		put_num(f, "", nums[i].name, nums[i].v);
	if (be->who) {
		put_identity(f, "LOGBUS_", be->who);
		if (!object_by_journald)
			put_identity(f, "OBJECT_", be->who);
	}
	begin(f, "", "LOGBUS_TS");
	lb_rfc3339_put(&f->text, be->ts_ns);
	begin(f, "", "MESSAGE");
	lb_buf_put(&f->text, e->msg, e->msg_len);
}

/* Start a user field: "KEY=", renamed when needed. */
static void begin_user(struct journal_fields *f, const struct lb_field_view *fv)
{
	char name[NAME_MAX_LEN + 3];
	size_t n = fv->key_len < NAME_MAX_LEN ? fv->key_len : NAME_MAX_LEN;

	for (size_t i = 0; i < n; i++) {
		char c = fv->key[i];
		name[i] = c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
	}
	if (name_needs_rename(name, n)) {
		memmove(name + 2, name, n);
		name[0] = 'F';
		name[1] = '_';
		n = n + 2 > NAME_MAX_LEN ? NAME_MAX_LEN : n + 2;
	}
	name[n] = '\0';
	begin(f, "", name);
}

int journal_fields_build(struct journal_fields *f, const struct batch_entry *be,
			 const char *prefix, bool object_by_journald)
{
	const struct lb_entry *e = &be->e;
	const uint8_t *cursor;
	struct lb_field_view fv;

	f->text.len = 0;
	f->n = 0;
	put_fixed(f, be, prefix, object_by_journald);
	lb_entry_field_first(e, &cursor);
	for (size_t i = 0; i < e->nfields && f->n < JOURNAL_FIELDS_MAX; i++) {
		lb_entry_field_next(&cursor, &fv);
		begin_user(f, &fv);
		lb_buf_put(&f->text, fv.value, fv.value_len);
	}
	f->offs[f->n] = f->text.len;
	if (f->text.failed) {
		f->text.failed = false;
		return -ENOMEM;
	}
	for (int i = 0; i < f->n; i++)
		f->iov[i] = (struct iovec){ f->text.data + f->offs[i], f->offs[i + 1] - f->offs[i] };
	return f->n;
}

void journal_fields_free(struct journal_fields *f)
{
	lb_buf_free(&f->text);
}
