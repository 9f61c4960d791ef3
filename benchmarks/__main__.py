"""``make bench``: run the benchmarks. So far: the sandbox's serving rate (see bench_sandbox)."""

from __future__ import annotations

import json

from benchmarks import bench_sandbox


def main() -> None:
    print(json.dumps(bench_sandbox.run(), indent=2, default=str))


if __name__ == "__main__":
    main()
