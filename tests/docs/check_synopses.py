#!/usr/bin/env python3
"""Each command synopsis in README.md and docs/*.md lists exactly the flags its --help lists.

A synopsis is the block right after a marker line
    <!-- synopsis: PROGRAM [SUBCOMMAND] -->
either a fenced code block (each line starting with PROGRAM begins an entry; the entry is for
PROGRAM SUB when its next word is one of PROGRAM's subcommands, and its flags are every
`-x` / `--name` on its lines, `# comments` left out; entries of one command in one block are
joined) or a Markdown table (the flags of its first column, for the marker's command).
For each block and command: a flag the doc lists that --help does not know fails, and so does
an option of --help the doc leaves out (an option with aliases needs one of them). --help and
--version are left out on both sides (every binary has them; README.md says so once).
Every command named in REQUIRED (and every sgxctl subcommand) must have a synopsis somewhere.

  check_synopses.py SOURCE_DIR PROGRAM=PATH...     # the check (CTest: DocSynopsesMatchHelp)
  check_synopses.py --self-test                    # the checker fails on both kinds of drift
"""
import glob
import os
import re
import subprocess
import sys

MARKER = re.compile(r"<!--\s*synopsis:\s*(.+?)\s*-->")
FLAG = re.compile(r"(?<![\w/.\-])(--?[A-Za-z][\w-]*)")
IGNORED = {"-h", "--help", "--version"}
# Commands that must have a synopsis; sgxctl's subcommands are added from its --help.
REQUIRED = ["sgx-quote-helper", "sgx-device-plugin", "sgx-webhook", "sgx-kubelet-emulator",
            "sgx-attest"]


def parse_help(text):
    """(options, subcommands): options as a list of alias sets, from CLI11's --help."""
    options, subcommands, section = [], [], None
    for line in text.splitlines():
        header = re.match(r"^(Options|Subcommands|Positionals):\s*$", line)
        if header:
            section = header.group(1)
            continue
        if not line.strip():
            continue
        if not line.startswith(" "):
            section = None
            continue
        if section == "Options" and re.match(r"^  -", line):
            names = set(line.split()[0].split(","))
            names -= IGNORED
            if names:
                options.append(names)
        elif section == "Subcommands" and re.match(r"^  \S", line):
            subcommands.append(line.split()[0])
    return options, subcommands


def blocks(path, text):
    """Yields (where, marker command, kind, lines) for each marked block of a Markdown file."""
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        m = MARKER.search(lines[i])
        i += 1
        if not m:
            continue
        where = "%s:%d" % (path, i)
        while i < len(lines) and not lines[i].strip():
            i += 1
        if i < len(lines) and lines[i].startswith("```"):
            start = i + 1
            i = start
            while i < len(lines) and not lines[i].startswith("```"):
                i += 1
            yield where, m.group(1).split(), "code", lines[start:i]
        elif i < len(lines) and lines[i].startswith("|"):
            start = i
            while i < len(lines) and lines[i].startswith("|"):
                i += 1
            yield where, m.group(1).split(), "table", lines[start:i]
        else:
            yield where, m.group(1).split(), "none", []


def doc_flags(kind, marker, lines, subcommands_of):
    """{command: set of flags} that one block lists."""
    out = {}
    if kind == "table":
        for row in lines:
            cells = re.split(r"(?<!\\)\|", row.strip().strip("|"))
            first = cells[0]
            if re.fullmatch(r"\s*:?-{3,}:?\s*", first) or first.strip().lower() in ("flag", "option"):
                continue
            out.setdefault(" ".join(marker), set()).update(FLAG.findall(first.replace("\\|", "|")))
        return out
    program = marker[0]
    current = None
    for line in lines:
        text = re.sub(r"(^|\s)#.*$", "", line)
        words = text.split()
        if words and words[0] == program:
            sub = words[1] if len(words) > 1 and words[1] in subcommands_of(program) else None
            current = program + (" " + sub if sub else "")
            out.setdefault(current, set())
            text = " ".join(words[2 if sub else 1:])
        if current is not None:
            out[current].update(FLAG.findall(text))
    return out


def compare(where, command, listed, options):
    """Problems of one block's synopsis of `command` against its --help options."""
    problems = []
    listed = set(listed) - IGNORED
    known = set().union(*options) if options else set()
    for flag in sorted(listed - known):
        problems.append("%s: `%s`: %s is not an option of `%s --help`" % (where, command, flag, command))
    for names in options:
        if not names & listed:
            problems.append("%s: `%s`: the synopsis leaves out %s (in `%s --help`)"
                            % (where, command, " / ".join(sorted(names)), command))
    return problems


def check(source_dir, programs):
    helps = {}

    def help_of(command):
        if command not in helps:
            words = command.split()
            if words[0] not in programs:
                raise SystemExit("no binary given for %s (pass %s=PATH)" % (words[0], words[0]))
            r = subprocess.run([programs[words[0]]] + words[1:] + ["--help"], capture_output=True,
                               text=True, timeout=60)
            if r.returncode != 0:
                raise SystemExit("`%s --help` exited %d: %s" % (command, r.returncode, r.stderr))
            helps[command] = parse_help(r.stdout)
        return helps[command]

    def subcommands_of(program):
        return help_of(program)[1] if program in programs else []

    files = [os.path.join(source_dir, "README.md")] + sorted(
        glob.glob(os.path.join(source_dir, "docs", "*.md")))
    problems, covered = [], set()
    for path in files:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        rel = os.path.relpath(path, source_dir)
        for where, marker, kind, lines in blocks(rel, text):
            if kind == "none":
                problems.append("%s: a synopsis marker not followed by a code block or a table" % where)
                continue
            if marker[0] not in programs:
                problems.append("%s: unknown program %s" % (where, marker[0]))
                continue
            found = doc_flags(kind, marker, lines, subcommands_of)
            if not found:
                problems.append("%s: no `%s` synopsis in the block" % (where, " ".join(marker)))
            for command, listed in found.items():
                covered.add(command)
                problems += compare(where, command, listed, help_of(command)[0])
    required = [p for p in REQUIRED if p in programs]
    if "sgxctl" in programs:
        required += ["sgxctl " + s for s in subcommands_of("sgxctl")]
    for command in required:
        if command not in covered:
            problems.append("`%s` has no synopsis (a block after `<!-- synopsis: %s -->`) in "
                            "README.md or docs/" % (command, command))
    return problems, covered


def self_test():
    help_text = """x: a tool
Usage: x [OPTIONS]

Options:
  -h,--help                   Print this help message and exit
  --version                   Display program version information and exit
  --alpha TEXT=1              A
  -o,--output TEXT:{text,json}=text
                              Output format
  --beta                      B
"""
    options, subs = parse_help(help_text)
    assert options == [{"--alpha"}, {"-o", "--output"}, {"--beta"}], options
    assert subs == []
    good = ["x [--alpha N] [-o text|json]", "  [--beta]   # --gamma in a comment is no flag"]
    found = doc_flags("code", ["x"], good, lambda p: [])
    assert found == {"x": {"--alpha", "-o", "--beta"}}, found
    assert compare("f:1", "x", found["x"], options) == []
    missing = doc_flags("code", ["x"], ["x [--alpha N] [--output F]"], lambda p: [])["x"]
    p = compare("f:1", "x", missing, options)
    assert len(p) == 1 and "leaves out --beta" in p[0], p
    extra = doc_flags("code", ["x"], good + ["  [--gone]"], lambda p: [])["x"]
    p = compare("f:1", "x", extra, options)
    assert len(p) == 1 and "--gone is not an option" in p[0], p
    # An escaped pipe stays inside its cell: --beta after it is still in the first column.
    table = ["| Flag | Default |", "|---|---|", "| `--alpha N` | 1 |",
             "| `-o text\\|json`, `--beta` | text |", "| `--version`, `--help` | |"]
    found = doc_flags("table", ["x"], table, lambda p: [])
    assert compare("f:1", "x", found["x"], options) == [], found
    sub = doc_flags("code", ["y"], ["y run [--alpha] /var/lib/sgx-quote-helper", "y other --z"],
                    lambda p: ["run"])
    assert sub == {"y run": {"--alpha"}, "y": {"--z"}}, sub
    text = "a\n<!-- synopsis: x -->\n\n```sh\nx --alpha\n```\n<!-- synopsis: x -->\n| a |\n"
    got = [(k, l) for _, _, k, l in blocks("f", text)]
    assert got == [("code", ["x --alpha"]), ("table", ["| a |"])], got
    print("check_synopses self-test: ok")


def main(argv):
    if argv[1:] == ["--self-test"]:
        self_test()
        return 0
    if len(argv) < 3:
        print(__doc__)
        return 2
    programs = dict(a.split("=", 1) for a in argv[2:])
    problems, covered = check(argv[1], programs)
    for p in problems:
        print(p)
    if problems:
        print("%d synopsis problem(s); the synopses are checked against --help "
              "(tests/docs/check_synopses.py)" % len(problems))
        return 1
    print("synopses match --help: %s" % ", ".join(sorted(covered)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
