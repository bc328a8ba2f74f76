"""The performance checks of part 1f, from one run:

    python -m helpers.bench [--d 8000] [--repeats 7] [--chunk-size 2000] [--device cpu]

prints the machine, every method's time and its ratios, and PASS/MISS for
each check (see timing_study.targets).  Only this module prints.
"""

import argparse

from .timing import results_folder, save_results
from .timing_study import summary_rows, targets, timing_study


def _print_table(rows):
    cols = list(rows[0])
    cells = [[("-" if r[c] is None else f"{r[c]:.4g}" if isinstance(r[c], float) else str(r[c]))
              for c in cols] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
    for line in [cols, *cells]:
        print("  ".join(s.rjust(w) if i else s.ljust(w) for i, (s, w) in
                        enumerate(zip(line, widths))))


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m helpers.bench", description=__doc__.split("\n")[0])
    ap.add_argument("--d", type=int, default=8000, help="d0 = d1 = d2 (default %(default)s)")
    ap.add_argument("--repeats", type=int, default=7, help="timed calls of the fast methods")
    ap.add_argument("--slow-repeats", type=int, default=3, help="timed calls of the O(d^3) ones")
    ap.add_argument("--chunk-size", type=int, default=2000, help="for forward chunked; 0 skips it")
    ap.add_argument("--device", default="cpu", help="cpu or cuda")
    ap.add_argument("--results", help="also save JSON/CSV into this folder of the project, "
                                        "such as scratch/bench")
    a = ap.parse_args(argv)
    try:
        a.results and results_folder(a.results)     # checked before minutes of timing
    except ValueError as e:
        ap.error(str(e))
    study = timing_study(a.d, repeats=a.repeats, slow_repeats=a.slow_repeats,
                         chunk_size=a.chunk_size, device=a.device)
    print(", ".join(f"{k}: {v}" for k, v in study["machine"].items()))
    _print_table(summary_rows(study))
    print()
    _print_table(targets(study))
    load = study["background_load"]
    print(f"\nwall time {study['wall_s']:.1f} s; other jobs used "
          f"{'?' if load is None else f'{load:.0%}'} of the CPUs meanwhile")
    if a.results:
        print("saved", *save_results(study, a.results, f"bench_{a.device}_d{a.d}"))


if __name__ == "__main__":
    main()
