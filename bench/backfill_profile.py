"""Where the whole-process backfill spends CPU and memory: `bench/backfill.py --whole --profile / --memory`.

`--profile pyspy` runs the bridge under py-spy, which samples every thread (the staging writer included) from
outside; its raw stacks go to `bench/out/profile-N.pyspy.txt` and the summary (samples by
backfill phase, top functions by cumulative and by own samples) beside it. `--profile cprofile` runs it under
cProfile, which sees the main thread only but counts calls (`bench/out/profile-N.prof`). Profiled figures
include the profiler's own cost.

`--memory` runs it under memray with native stacks (SQLite's page caches and journals are malloc'd, so they are
seen too) into `bench/out/memray-N.bin`, and prints the allocation sites alive at the heap's high-water mark and
the peak heap and RSS of each phase. The report runs in a subprocess (`python bench/backfill_profile.py
CAPTURE LOG`), so that reading a large capture never inflates the launcher, whose size the next bridge inherits.
"""

from __future__ import annotations

import io
import pstats
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.backfill_whole import (
    HEADER,
    OUT,
    PHASE_NAMES,
    REPO,
    VENV_BIN,
    Shop,
    good,
    phase_marks,
    row,
    run_bridge,
)

TOP = 25
# Where a py-spy sample belongs: the category of its deepest frame named here (function names, not modules, so
# that moving modules keeps the table right). A sample in none of them is "other".
CATEGORIES = {
    "download": ("download",),
    "staging: read + classify lines": ("JsonlReader._read", "ids_or_record", "_Stager.stage", "_Stager.add"),
    "staging: pack rows": ("packed_rows", "_Stager.flush"),
    "staging: SQLite appends": ("append_rows",),
    "staging: indexes, repeats, orphans, counts": ("build_indexes", "drop_repeats", "_quarantine_orphans",
                                                    "staged_counts", "drop_indexes"),
    "staging: clear (DELETE) and file deletes": ("clear", "discard_staging"),
    "assembly: index scans and line reads (_fetch)": ("_fetch", "read_line"),
    "assembly: parse (_document)": ("_document", "_finish", "_salvage"),
    "ingest: store reads (facts, deferred refunds)": ("Orders.facts_many", "_deferred_refunds"),
    "ingest: new version (canonical JSON, SHA-256)": ("new_version",),
    "ingest: refunds": ("settle_refunds",),
    "ingest: exclusion": ("decide_exclusion",),
    "ingest: decisions, routing, the rest": ("on_fetch", "route_events", "in_window", "_ingest_run"),
    "ingest: writes (versions, orders, refunds)": ("Orders.record_many",),
    "ingest: customers (fold, hash, upsert)": ("fold_orders", "Customers.note"),
    "BEGIN / COMMIT (fsync)": ("transaction",),
    "start-up imports": ("_find_and_load",),
}
_CATEGORY_OF = {name: category for category, names in CATEGORIES.items() for name in names}
# Leaves that are waits, not work: py-spy counts a worker thread blocked in its queue's get() as active.
IDLE_LEAVES = ("_worker (concurrent/futures/thread.py:81)", "EpollSelector.select")
# Frames every sample of a thread shares (the CLI, typer, asyncio, the thread machinery): left out of the
# cumulative list, which would otherwise show only them.
ENTRY_FRAMES = ("<module> (", "main (", "_main (", "run (", "_run (shopify_bridge/commands", "TyperGroup.",
                "RoutedGroup.", "Context.invoke", "Command.invoke", "get_callback.", "_run_command (", "Runner.run",
                "BaseEventLoop.", "Handle._run", "Thread.", "_worker (", "_WorkItem.run")


def _category(frames: list[str]) -> str | None:
    if frames[-1].startswith(IDLE_LEAVES):
        return None
    if any("structlog/" in frame for frame in frames):
        return "logging"
    for frame in reversed(frames):
        category = _CATEGORY_OF.get(frame.partition(" (")[0])
        if category is not None:
            return category
    return "other (event loop, HTTP, CLI, config)"


def _function(frame: str) -> str:
    """`name (file.py:123)` → `name (file.py)`: one entry per function, not per line."""
    name, _, where = frame.partition(" (")
    return f"{name} ({where.rsplit(':', 1)[0]})" if where else name


def top_of_stacks(path: Path, top: int = TOP) -> str:
    """Samples by phase, and the top functions by cumulative and by own samples, of py-spy's raw stacks."""
    own: Counter[str] = Counter()
    cumulative: Counter[str] = Counter()
    phases: Counter[str] = Counter()
    total = idle = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        samples, frames = int(count), stack.split(";")
        category = _category(frames)
        if category is None:
            idle += samples
            continue
        total += samples
        phases[category] += samples
        names = [_function(frame) for frame in frames]
        own[names[-1]] += samples
        for name in set(names):
            if not name.startswith(ENTRY_FRAMES):
                cumulative[name] += samples
    lines = [f"{total} samples of busy threads ({idle} samples of waiting worker threads and event loop left out)",
             "\nby phase:"]
    lines += [f"{n / total:7.1%}  {name}" for name, n in phases.most_common()]
    for title, counter in (("by cumulative samples (below the CLI and event loop)", cumulative),
                           ("by own samples", own)):
        lines.append(f"\ntop {top} {title}:")
        lines += [f"{n / total:7.1%}  {name}" for name, n in counter.most_common(top)]
    return "\n".join(lines)


def _pstats_report(path: Path) -> str:
    text = io.StringIO()
    stats = pstats.Stats(str(path), stream=text)
    for key in ("cumulative", "tottime"):
        stats.sort_stats(key).print_stats(TOP)
    return text.getvalue()


def _perf_report(path: Path) -> str:
    """perf's share of samples by library, then its top native symbols (SQLite, orjson, the interpreter, the
    kernel): where CPU goes below Python, system calls included."""
    def report(sort: str, limit: str) -> list[str]:
        out = subprocess.run(["perf", "report", "-i", str(path), "--stdio", "--sort", sort, "--percent-limit", limit],
                             capture_output=True, text=True, check=True).stdout
        return [line.rstrip() for line in out.splitlines() if line.strip() and not line.startswith("#")]
    return "\n".join(["by library:", *report("dso", "0.5"), "", "top symbols:", *report("dso,symbol", "0.5")])


def _syscall_report(path: Path) -> str:
    """strace's reads and writes summed by file: how many calls and bytes each file cost."""
    calls: Counter[tuple[str, str]] = Counter()
    size: Counter[tuple[str, str]] = Counter()
    for line in path.read_text().splitlines():
        found = re.search(r"(pwrite64|pread64|fdatasync|read|write)\(\d+<([^>]*)>.*= (\d+)$", line)
        if found:
            key = (found[1], found[2].rsplit("/", 1)[-1])
            calls[key] += 1
            size[key] += int(found[3])
    return "\n".join(f"{n:8,} {call:10} {name:50} {size[(call, name)] / 1e6:8.1f} MB"
                     for (call, name), n in calls.most_common(TOP))


def profile(size: int, workroot: Path, tools: list[str]) -> int:
    """The bridge under each profiler in turn, against one seeded shop."""
    unknown = set(tools) - {"pyspy", "cprofile", "perf", "strace"}
    if unknown:
        raise SystemExit(f"--profile takes pyspy, cprofile, perf or strace (comma-separated), not "
                         f"{', '.join(sorted(unknown))}")
    OUT.mkdir(exist_ok=True)
    failed = 0
    with Shop(size) as shop:
        for tool in tools:
            if tool == "pyspy":
                target = OUT / f"profile-{size}.pyspy.txt"
                wrapper = [str(VENV_BIN / "py-spy"), "record", "--format", "raw", "--rate", "250",
                           "--output", str(target), "--"]
            elif tool == "perf":  # native: the interpreter, SQLite, orjson, libc and the kernel, threads included
                target = OUT / f"profile-{size}.perf.data"
                wrapper = ["perf", "record", "--quiet", "-F", "2000", "-o", str(target), "--"]
            elif tool == "strace":  # the file system calls, by file
                target = OUT / f"profile-{size}.strace.txt"
                wrapper = ["strace", "-f", "-y", "-e", "trace=pwrite64,pread64,fdatasync,read,write", "-o",
                           str(target), "--"]
            else:
                target = OUT / f"profile-{size}.prof"
                wrapper = [str(VENV_BIN / "python"), "-m", "cProfile", "-o", str(target)]
            figures = run_bridge(shop, workroot, wrapper, label=f"profile-{tool}")
            failed += not good(figures)
            reports = {"pyspy": top_of_stacks, "perf": _perf_report, "strace": _syscall_report}
            report = reports.get(tool, _pstats_report)(target)
            target.with_suffix(".top.txt").write_text(report + "\n")
            print(HEADER)
            print(row(figures), f"  (under {tool}: its own CPU and memory are counted too)")
            print(report)
            print(f"profile: {target.relative_to(REPO)}, summary: {target.with_suffix('.top.txt').relative_to(REPO)}")
    return 1 if failed else 0


def memory(size: int, workroot: Path) -> int:
    OUT.mkdir(exist_ok=True)
    capture = OUT / f"memray-{size}.bin"
    capture.unlink(missing_ok=True)
    wrapper = [str(VENV_BIN / "memray"), "run", "--native", "--quiet", "--output", str(capture)]
    with Shop(size) as shop:
        figures = run_bridge(shop, workroot, wrapper, label="memray")
    print(HEADER)
    print(row(figures), "  (under memray: its own memory is counted too)")
    report = subprocess.run([str(VENV_BIN / "python"), __file__, str(capture), str(OUT / f"memray-{size}.log")],
                            capture_output=True, text=True, check=True).stdout
    (OUT / f"memray-{size}.top.txt").write_text(report)
    print(report)
    print(f"memray capture: {capture.relative_to(REPO)} (`memray flamegraph` or `memray tree` read it)")
    return 0 if good(figures) else 1


def _site(stack: list[tuple[str, str, int]]) -> str:
    """An allocation's site: its innermost three frames in shopify_bridge, else its innermost Python frame."""
    ours = [f"{name} ({path.rsplit('/', 1)[-1]}:{line})" for name, path, line in stack if "/shopify_bridge/" in path]
    if ours:
        return " <- ".join(ours[:3])
    if stack:
        name, path, line = stack[0]
        return f"{name} ({path.rsplit('/', 1)[-1]}:{line})"
    return "? (no Python frame)"


def memray_report(capture: Path, log: Path) -> str:
    """Allocation sites alive at the heap's high-water mark, and peak heap and RSS per backfill phase."""
    from memray import FileReader

    reader = FileReader(str(capture))
    sites: Counter[str] = Counter()
    for record in reader.get_high_watermark_allocation_records(merge_threads=True):
        sites[_site(record.stack_trace(max_stacks=40))] += record.size
    peak = reader.metadata.peak_memory
    lines = [f"heap high-water mark {peak / 1e6:.1f} MB; top {TOP} allocation sites alive then:"]
    lines += [f"{size / 1e6:9.1f} MB  {site}" for site, size in sites.most_common(TOP)]
    snapshots = list(reader.get_memory_snapshots())
    if snapshots:
        marks = phase_marks(log, snapshots[0].time / 1000)
        bounds = [*(epoch for _, epoch in marks[1:]), float("inf")]
        lines.append("\npeak heap / RSS MB by phase (from memray's snapshots): " + " · ".join(
            f"{PHASE_NAMES[name]} {max((s.heap for s in inside), default=0) / 1e6:.0f}/"
            f"{max((s.rss for s in inside), default=0) / 1e6:.0f}"
            for (name, start), stop in zip(marks, bounds, strict=True)
            if (inside := [s for s in snapshots if start <= s.time / 1000 < stop])))
    return "\n".join(lines)


if __name__ == "__main__":
    print(memray_report(Path(sys.argv[1]), Path(sys.argv[2])))
