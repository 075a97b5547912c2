/* SPDX-License-Identifier: MIT */
/*
 * Shared-object hooks: loaded with dlopen (RTLD_NOW | RTLD_LOCAL) the first
 * time an entry matches, checked against LOGBUS_HOOK_ABI_VERSION, then
 * initialised with the hook's JSON config. A plugin that cannot load is
 * said once and stays disabled until the next reload.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "hooks_impl.h"

int hook_plugin_open(const struct hook_conf *c, void **dl,
		     const struct logbus_hook_plugin **desc, char *err, size_t errlen)
{
	const struct logbus_hook_plugin *d;
	void *h = dlopen(c->plugin, RTLD_NOW | RTLD_LOCAL);

	if (!h) {
		snprintf(err, errlen, "hook '%s': cannot load plugin '%s': %s", c->name,
			 c->plugin, dlerror());
		return -ENOENT;
	}
	d = dlsym(h, LOGBUS_HOOK_SYMBOL);
	if (!d) {
		snprintf(err, errlen, "hook '%s': plugin '%s' exports no %s", c->name, c->plugin,
			 LOGBUS_HOOK_SYMBOL);
		goto refuse;
	}
	if (d->abi_version != LOGBUS_HOOK_ABI_VERSION) {
		snprintf(err, errlen, "hook '%s': plugin '%s' was built for hook ABI version %u, "
			 "this writer loads ABI version %u only; rebuild it against this "
			 "logbus-hook.h", c->name, c->plugin, d->abi_version,
			 LOGBUS_HOOK_ABI_VERSION);
		goto refuse;
	}
	if (c->type == HOOK_FILTER ? !d->filter : !d->action) {
		snprintf(err, errlen, "hook '%s': plugin '%s' has no %s function", c->name,
			 c->plugin, c->type == HOOK_FILTER ? "filter" : "action");
		goto refuse;
	}
	*dl = h;
	*desc = d;
	return 0;
refuse:
	dlclose(h);
	return -ENOEXEC;
}

/* Load and initialise h's plugin on first use; whether it can be called. */
bool hook_plugin_ready(struct hook *h)
{
	struct hook_plugin *p = &h->plugin;
	char err[512];
	int r;

	if (p->state != PLUGIN_UNLOADED)
		return p->state == PLUGIN_READY;
	p->state = PLUGIN_FAILED;
	if (hook_plugin_open(h->c, &p->dl, &p->desc, err, sizeof(err)) < 0) {
		hook_say(h, "%s; the hook is disabled", err);
		return false;
	}
	r = p->desc->init ? p->desc->init(h->c->config, &p->data) : 0;
	if (r < 0) {
		hook_say(h, "plugin '%s' init failed: %s; the hook is disabled", h->c->plugin,
			 strerror(-r));
		dlclose(p->dl);
		p->dl = NULL;
		return false;
	}
	p->state = PLUGIN_READY;
	return true;
}

void hook_plugin_close(struct hook *h)
{
	struct hook_plugin *p = &h->plugin;

	if (p->state == PLUGIN_READY) {
		if (p->desc->fini)
			p->desc->fini(p->data);
		dlclose(p->dl);
	}
	p->state = PLUGIN_UNLOADED;
}

/* The plugin's view of e; fields must hold e->nfields. */
/* The identity fields took the place of three of the four reserved words
 * of the first version: a plugin built before them still reads the
 * struct right. */
_Static_assert(offsetof(struct logbus_hook_entry, reserved) + sizeof(uint64_t) ==
	       offsetof(struct logbus_hook_entry, uid) + 4 * sizeof(uint64_t),
	       "the identity fills three reserved words");

void hook_entry_view(const struct lb_entry *e, uint64_t ts_ns, uint64_t seq,
		     const struct lb_client_identity *who, struct logbus_hook_field *fields,
		     struct logbus_hook_entry *v)
{
	const uint8_t *cur;

	lb_entry_field_first(e, &cur);
	for (size_t i = 0; i < e->nfields; i++) {
		struct lb_field_view f;
		lb_entry_field_next(&cur, &f);
		fields[i] = (struct logbus_hook_field){
			.key = f.key, .key_len = f.key_len, .value = f.value, .value_len = f.value_len,
		};
	}
	*v = (struct logbus_hook_entry){
		.level = e->level, .tag = e->tag, .tag_len = e->tag_len, .pid = e->pid,
		.tid = e->tid, .ts_ns = ts_ns, .seq = seq, .msg = e->msg, .msg_len = e->msg_len,
		.fields = fields, .nfields = e->nfields,
	};
	if (who) {   /* e->pid is who->pid already: the drain stamps it */
		v->uid = who->uid;
		v->gid = who->gid;
		v->comm = who->comm;
		v->exe = who->exe;
	}
}
