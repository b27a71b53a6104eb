#!/usr/bin/env python3
"""Per-frame figures from tf-bench --profile runs under callgrind.

    callgrind-summary.py OUT_DIR NAME [NAME...]

For each NAME, reads OUT_DIR/callgrind.NAME.out.1 (the dump tf-bench makes
around its steady-state window) and OUT_DIR/profile.NAME.json (the frames in
that window, printed by tf-bench), and writes OUT_DIR/profile.md and
OUT_DIR/profile.json: instructions, memcpy/memmove work and allocator calls
per frame, and the functions that cost most.  Callgrind sees user space
only: the kernel's copy from the socket into the buffer is not in these
figures, which is the point: any copy the receiver adds is.
"""

import json
import re
import sys
from collections import defaultdict

COPY = re.compile(r"^(__)?(memcpy|memmove|mempcpy)|^__mem(cpy|move)_")
ALLOC = {
    "malloc": re.compile(r"^(__libc_)?malloc$"),
    "calloc": re.compile(r"^(__libc_)?calloc$"),
    "realloc": re.compile(r"^(__libc_)?realloc$"),
    "g_slice_alloc": re.compile(r"^g_slice_alloc0?$"),
    "gst_allocator_alloc": re.compile(r"^gst_allocator_alloc$"),
    "gst_buffer_new": re.compile(r"^gst_buffer_new(_allocate)?$"),
}
SYSCALLS = {
    "recv": re.compile(r"^(__libc_)?recv(msg)?$"),
    "poll": re.compile(r"^(__)?poll$"),
}


def parse(path, self_ir, calls):
    """Adds one dump's self Ir per function and call counts per callee;
    returns its total Ir."""
    names = {}
    fn = cfn = None
    after_calls = False
    total = 0
    own = 0

    def name(rest):
        rest = rest.strip()
        m = re.match(r"\((\d+)\)(?: (.*))?$", rest)
        if not m:
            return rest
        if m.group(2) is not None:
            names[m.group(1)] = m.group(2)
        return names.get(m.group(1), rest)

    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            c = line[:1]
            if c.isdigit() or c in "+-*":
                parts = line.split()
                ir = int(parts[1]) if len(parts) > 1 else 0
                if after_calls:
                    # the inclusive cost of the call just described
                    after_calls = False
                else:
                    self_ir[fn] += ir
                    own += ir
            elif line.startswith("fn="):
                fn = name(line[3:])
            elif line.startswith("cfn="):
                cfn = name(line[4:])
            elif line.startswith("calls="):
                # tf-bench's interposed recv()/poll()/malloc() call libc's
                # function of the same name: count each call once.
                if cfn != fn:
                    calls[cfn] += int(line[6:].split()[0])
                after_calls = True
            elif line.startswith(("summary:", "totals:")):
                total = max(total, int(line.split()[1]))
    return total or own


def parse_run(out_dir, name):
    self_ir = defaultdict(int)
    calls = defaultdict(int)
    total = parse(f"{out_dir}/callgrind.{name}.out.1", self_ir, calls)
    return total, self_ir, calls


def count(calls, pattern):
    return sum(n for f, n in calls.items() if f and pattern.search(f))


def main():
    out_dir, names = sys.argv[1], sys.argv[2:]
    results = []
    md = ["### Profile (callgrind, user space only)", "",
          "tf-bench --profile RECEIVER:SIZE under valgrind --tool=callgrind, "
          "counting only a steady-state window (tf-bench's main thread, "
          "which wakes every 20 ms to count frames, adds a few hundred "
          "instructions per frame at 30 fps).  Per frame: instructions, "
          "instructions spent in memcpy/memmove (a payload copy in user "
          "space would show here as about one instruction per 1-32 bytes "
          "copied), calls to those and to allocators, and syscall wrappers.",
          "",
          "| receiver | frame | frames | Ir/frame | memcpy Ir/frame | "
          "memcpy calls/frame | malloc+calloc+realloc/frame | "
          "g_slice_alloc/frame | GstMemory allocs/frame | recv/frame | "
          "poll/frame |",
          "|---|---|---|---|---|---|---|---|---|---|---|"]
    for n in names:
        with open(f"{out_dir}/profile.{n}.json", encoding="utf-8") as f:
            meta = json.loads(f.read().strip().splitlines()[-1])
        total, self_ir, calls = parse_run(out_dir, n)
        frames = max(meta["frames"], 1)
        copy_ir = sum(v for f, v in self_ir.items() if f and COPY.search(f))
        copy_calls = count(calls, COPY)
        per = {k: count(calls, p) / frames for k, p in ALLOC.items()}
        sys_per = {k: count(calls, p) / frames for k, p in SYSCALLS.items()}
        top = sorted(self_ir.items(), key=lambda kv: -kv[1])[:12]
        r = {
            "name": n,
            "receiver": meta["receiver"],
            "size": meta["size"],
            "frames": meta["frames"],
            "bytes": meta["bytes"],
            "ir_per_frame": total / frames,
            "memcpy_ir_per_frame": copy_ir / frames,
            "memcpy_calls_per_frame": copy_calls / frames,
            "allocs_per_frame": per,
            "syscalls_per_frame": sys_per,
            "top_self_ir_per_frame": [[f, v / frames] for f, v in top],
        }
        results.append(r)
        rate = f"@{meta['fps']}" if meta.get("fps") else ""
        md.append(
            f"| {r['receiver']} | {r['size']}{rate} | {r['frames']} | "
            f"{r['ir_per_frame']:.0f} | {r['memcpy_ir_per_frame']:.0f} | "
            f"{r['memcpy_calls_per_frame']:.2f} | "
            f"{per['malloc'] + per['calloc'] + per['realloc']:.2f} | "
            f"{per['g_slice_alloc']:.2f} | "
            f"{per['gst_allocator_alloc']:.2f} | {sys_per['recv']:.2f} | "
            f"{sys_per['poll']:.2f} |")
    md.append("")
    for r in results:
        md.append(f"Top functions by own instructions, {r['name']} "
                  "(Ir per frame): " + ", ".join(
                      f"{f} {v:.0f}" for f, v in r["top_self_ir_per_frame"]))
        md.append("")
    text = "\n".join(md) + "\n"
    with open(f"{out_dir}/profile.md", "w", encoding="utf-8") as f:
        f.write(text)
    with open(f"{out_dir}/profile.json", "w", encoding="utf-8") as f:
        json.dump(results, f, indent=2)
    sys.stdout.write(text)


if __name__ == "__main__":
    main()
