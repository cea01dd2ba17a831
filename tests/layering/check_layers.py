#!/usr/bin/env python3
"""Checks confcom's layering: src/CMakeLists.txt adds the folders of src/ from the bottom layer
up, and a folder may include only headers of its own folder and of folders added before it.
Also checks that every folder of src/ is added there and listed in README.md's layout table.
Usage: check_layers.py REPO_ROOT. Exits 0 when all holds, else 1 naming each offending include."""
import os
import re
import sys

root = sys.argv[1]
src = os.path.join(root, "src")
cmake = open(os.path.join(src, "CMakeLists.txt")).read()
order = re.findall(r"add_subdirectory\((\w+)\)", cmake)
rank = {d: i for i, d in enumerate(order)}
problems = []
folders = sorted(d for d in os.listdir(src) if os.path.isdir(os.path.join(src, d)))
for d in folders:
    if d not in rank:
        problems.append(f"src/{d} is not added in src/CMakeLists.txt")
readme = open(os.path.join(root, "README.md")).read()
for d in folders:
    if f"| `src/{d}` |" not in readme:
        problems.append(f"src/{d} is not in README.md's layout table")
include = re.compile(r'^\s*#\s*include\s+"([a-z_]+)/')
for d in folders:
    for dirpath, _, files in os.walk(os.path.join(src, d)):
        for name in files:
            if not name.endswith((".h", ".cc")):
                continue
            path = os.path.join(dirpath, name)
            for n, line in enumerate(open(path, encoding="utf-8"), 1):
                m = include.match(line)
                if not m or m.group(1) == d or m.group(1) not in rank:
                    continue
                if d in rank and rank[m.group(1)] > rank[d]:
                    problems.append(f"{os.path.relpath(path, root)}:{n}: src/{d} includes "
                                    f"{m.group(1)}/, a higher layer (src/CMakeLists.txt order)")
for p in problems:
    print("check_layers:", p)
print(f"check_layers: {len(folders)} folders, {len(problems)} problem(s)")
sys.exit(1 if problems else 0)
