#!/usr/bin/env python3
"""Print the names of the gst-check test functions registered in C files.

meson registers each as its own test (GST_CHECKS=name), so a hanging or
failing case is reported by name and the cases run in parallel."""
import re
import sys

for path in sys.argv[1:]:
    with open(path, encoding="utf-8") as f:
        text = f.read()
    for name in re.findall(r"tcase_add_test\s*\(\s*\w+\s*,\s*(\w+)\s*\)", text):
        print(name)
