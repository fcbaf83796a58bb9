"""`python -m bench [part ...] [--quick]`: run the benchmarks, print a table, write docs/benchmarks.md."""

import argparse
import importlib
import sys
import time

from bench.common import load_average, say
from bench.report import ORDER, print_table, write_document

MODULES = {
    "transcription": "bench.transcription",
    "pages": "bench.pages",
    "throughput": "bench.throughput",
    "upload": "bench.upload",
    "sharing": "bench.sharing",
    "search": "bench.search",
    "insights": "bench.insights",
    "load": "bench.load",
}


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("parts", nargs="*", metavar="part", help=" | ".join(ORDER) + " (default: all)")
    parser.add_argument("--quick", action="store_true", help="smaller inputs and fewer repetitions")
    arguments = parser.parse_args()
    unknown = set(arguments.parts) - set(ORDER)
    if unknown:
        parser.error(f"unknown part {', '.join(sorted(unknown))}; choose from {', '.join(ORDER)}")
    failed = []
    for part in arguments.parts or ORDER:
        say(f"{part}: starting ({'quick' if arguments.quick else 'full'})")
        started, load_before = time.perf_counter(), load_average()
        try:
            result = importlib.import_module(MODULES[part]).run(quick=arguments.quick)
        except Exception as error:  # one broken part must not cost the figures of the others
            say(f"{part}: failed: {error!r}")
            failed.append(part)
            continue
        result.seconds = time.perf_counter() - started
        result.machine_load = f"{load_before} at the start, {load_average()} at the end"
        result.save()
        print_table(result)
    say(f"wrote {write_document()}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
