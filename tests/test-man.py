#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Description: the manual pages are whole. Every page renders with
man -l and groff says nothing (MANWIDTH=80 man --warnings); every option
each tool's --help prints appears in the tool's page; and every key the
configuration parser accepts (the key tables of writer/config.c and of
the sinks, writer/sink_*.c, the sections of writer/sink_kinds.c, the key
names writer/hooks/hooks_conf.c compares) is an item of its section of
logbus-writer.json(5); every function of the public headers is named
in its page's NAME section, has a part of the page of its own, and an
alias page (man/meson.build).

    test-man.py MAN_BUILD_DIR SOURCE_ROOT TOOL...
"""

import os
import re
import subprocess
import sys

# Which section of logbus-writer.json(5) documents each key table of
# writer/config.c and writer/sink_*.c and each key-reading function of
# writer/hooks/hooks_conf.c.
CONFIG_SECTIONS = {
    "top_keys": "TOP-LEVEL KEYS", "file_keys": "FILE", "entry_keys": "ENTRY FILES",
    "journal_keys": "JOURNALD", "syslog_keys": "SYSLOG",
    "parse_key": "HOOKS", "parse_match": "HOOKS", "clients_keys": "CLIENTS",
}

failures = []


def fail(msg):
    failures.append(msg)
    print("test-man: " + msg, file=sys.stderr)


def render(page, width):
    env = dict(os.environ, LC_ALL="C", MANWIDTH=str(width), MAN_KEEP_FORMATTING="")
    return subprocess.run(["man", "--warnings", "-l", page], env=env, capture_output=True,
                          text=True)


def check_renders(page):
    r = render(page, 80)
    name = os.path.basename(page)
    if r.returncode != 0 or not r.stdout.strip():
        fail(f"{name}: man -l exited {r.returncode} with {len(r.stdout)} bytes of output")
    for line in r.stderr.splitlines():
        fail(f"{name}: groff: {line}")


def help_options(tool):
    """The options of the option lines (indented, starting with '-') of
    tool --help, up to the description (two spaces)."""
    out = subprocess.run([tool, "--help"], capture_output=True, text=True, check=True).stdout
    opts = set()
    for line in out.splitlines():
        if not re.match(r"\s+-", line):
            continue
        head = re.split(r"\s{2,}", line.strip())[0]
        opts.update(re.findall(r"(?<![\w-])(--?[A-Za-z][\w-]*)", head))
    return opts


def check_options(tool, man_dir):
    name = os.path.basename(tool)
    pages = [p for p in os.listdir(man_dir) if re.fullmatch(re.escape(name) + r"\.[18]", p)]
    if not pages:
        fail(f"{name} has no page in {man_dir}")
        return
    text = render(os.path.join(man_dir, pages[0]), 200).stdout
    opts = help_options(tool)
    if not opts:
        fail(f"{name} --help lists no option")
    for opt in sorted(opts):
        if not re.search(r"(?<![\w-])" + re.escape(opt) + r"(?![\w-])", text):
            fail(f"{pages[0]}: {name} --help has {opt}, the page does not")


def c_function(src, name):
    m = re.search(r"\n[^\n]*\b" + name + r"\([^)]*\)\n\{\n(.*?)\n\}\n", src, re.S)
    return m.group(1) if m else None


def config_keys(root):
    """{table or function: [key, ...]} from the parser's sources."""
    keys = {}
    writer = os.path.join(root, "writer")
    sources = ["config.c"] + sorted(f for f in os.listdir(writer) if re.fullmatch(r"sink_\w+\.c", f))
    for name in sources:
        src = open(os.path.join(writer, name)).read()
        for table, body in re.findall(r"static const struct config_key (\w+)\[\] = \{(.*?)\n\};",
                                      src, re.S):
            keys[table] = re.findall(r"\bCONFIG_(?:KEY|SUB|WORDS)\(\"(\w+)\"", body)
    # The sinks' sections are top-level keys too, named in the table of sink kinds.
    kinds = open(os.path.join(writer, "sink_kinds.c")).read()
    keys.setdefault("top_keys", []).extend(re.findall(r"\.key = \"(\w+)\"", kinds))
    hooks = open(os.path.join(root, "writer", "hooks", "hooks_conf.c")).read()
    for fn in ("parse_key", "parse_match"):
        body = c_function(hooks, fn)
        if body is None:
            fail(f"writer/hooks/hooks_conf.c has no function {fn}: update test-man.py")
            continue
        keys[fn] = re.findall(r"strcmp\(key, \"(\w+)\"\) == 0", body)
    return keys


def man_sections(page):
    """{section title: its roff source} of a page."""
    sections, title = {}, None
    for line in open(page).read().splitlines():
        m = re.match(r"\.SH\s+\"?([^\"]*)\"?$", line)
        if m:
            title = m.group(1).strip()
            sections[title] = []
        elif title:
            sections[title].append(line)
    return {t: "\n".join(lines) for t, lines in sections.items()}


def check_config_keys(root, man_dir):
    page = os.path.join(man_dir, "logbus-writer.json.5")
    sections = man_sections(page)
    keys = config_keys(root)
    if sum(len(k) for k in keys.values()) < 40:
        fail(f"found only {sum(len(k) for k in keys.values())} configuration keys in the "
             "sources: has the parser changed shape? update test-man.py")
    for where, names in keys.items():
        title = CONFIG_SECTIONS.get(where)
        if title is None:
            fail(f"the configuration key table {where} has no section of "
                 "logbus-writer.json.5 in test-man.py's CONFIG_SECTIONS")
            continue
        text = sections.get(title)
        if text is None:
            fail(f"logbus-writer.json.5 has no section {title} (for {where})")
            continue
        for key in names:
            # An item (.TP then .B key) or, for match's keys, a bold mention.
            item = re.search(r"^\.TP\n\.B " + key + r"$", text, re.M)
            bold = re.search(r"^\.BR? " + key + r"(\s|$)", text, re.M)
            if not (item or (where == "parse_match" and bold)):
                fail(f"logbus-writer.json.5: key '{key}' ({where}) is not an item of {title}")


def check_api(root, man_dir):
    """Each function a public header declares is in its page's NAME and
    in a subsection (.SS) or an item (.TP) of the page."""
    for header, page in (("logbus.h", "logbus.h.3"), ("logbus-hook.h", "logbus-hook.h.3")):
        src = open(os.path.join(root, "libclient", "include", header)).read()
        funcs = set(re.findall(r"^[a-z][\w *]*?\b(logbus_\w+) ?\(", src, re.M))
        if not funcs:
            fail(f"{header}: found no function: update test-man.py")
        sections = man_sections(os.path.join(man_dir, page))
        name = sections.get("NAME", "")
        body = "\n".join(sections.values())
        for f in sorted(funcs):
            if not re.search(r"\b" + f + r"\b", name):
                fail(f"{page}: {f} (declared in {header}) is not in NAME")
            if not re.search(r"^\.(SS .*\b|TP\n\.B )" + f + r"\b", body, re.M):
                fail(f"{page}: {f} (declared in {header}) has no .SS or .TP of its own")


def check_aliases(root):
    """man/meson.build installs an alias page for each function that a
    page's NAME section lists (man logbus_publish opens logbus.h(3))."""
    build = open(os.path.join(root, "man", "meson.build")).read()
    m = re.search(r"man_aliases = \{(.*?)\n\}", build, re.S)
    if not m:
        fail("man/meson.build has no man_aliases: update test-man.py")
        return
    for page, names in re.findall(r"'([\w.-]+\.3)' : \[(.*?)\]", m.group(1), re.S):
        aliases = set(re.findall(r"'(\w+)'", names))
        listed = man_sections(os.path.join(root, "man", page)).get("NAME", "")
        named = set(re.findall(r"\b((?:logbus|LOGBUS)_\w+)", listed))
        for f in sorted(named - aliases):
            fail(f"man/meson.build: {page} names {f} but installs no alias page {f}.3")
        for f in sorted(aliases - named):
            fail(f"man/meson.build: alias {f}.3 of {page}, which does not name it")


def main():
    man_dir, root, tools = sys.argv[1], sys.argv[2], sys.argv[3:]
    pages = sorted(p for p in os.listdir(man_dir) if re.search(r"\.[1-8]$", p))
    if len(pages) < 10:
        fail(f"{man_dir} holds {len(pages)} pages, want at least 10")
    for p in pages:
        check_renders(os.path.join(man_dir, p))
    for tool in tools:
        check_options(tool, man_dir)
    check_config_keys(root, man_dir)
    check_api(root, man_dir)
    check_aliases(root)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
