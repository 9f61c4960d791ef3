"""Hot spots from a cProfile dump of ``sync_worker``, as data the report can print.

cProfile slows pure-Python code more than C calls, so shares are indicative: they rank
the hot spots, the unprofiled run gives the real seconds.
"""

from __future__ import annotations

import pstats
from pathlib import Path
from typing import Any

ROOT = str(Path(__file__).resolve().parent.parent) + "/"


def _name(func: tuple[str, int, str]) -> str:
    filename, line, name = func
    if filename.startswith(ROOT):
        return f"{filename[len(ROOT):]}:{line} {name}"
    if filename == "~":
        return name  # a C function such as {method 'recv_into' ...}
    return f"{Path(filename).name}:{line} {name}"


def hot_spots(path: Path, *, top: int = 12) -> dict[str, Any]:
    """The functions with the most own time, and the project's functions by cumulative time."""
    stats = pstats.Stats(str(path))
    total = stats.total_tt or 1.0
    rows = []
    for func, (_cc, ncalls, tottime, cumtime, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        rows.append({"function": _name(func), "calls": ncalls, "own_seconds": round(tottime, 3),
                     "cumulative_seconds": round(cumtime, 3), "own_share": round(tottime / total, 3),
                     "cumulative_share": round(cumtime / total, 3), "ours": func[0].startswith(ROOT)})
    own = sorted(rows, key=lambda r: -r["own_seconds"])[:top]
    ours = sorted((r for r in rows if r["ours"] and "benchmarks/" not in r["function"]),
                  key=lambda r: -r["cumulative_seconds"])[:top]
    return {"profiled_seconds": round(total, 3), "by_own_time": own, "project_by_cumulative_time": ours}
