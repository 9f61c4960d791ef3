"""`xero-pipeline sql` as people run it: formats, NULLs, pipes, several statements, any directory.

Each test runs the installed command in a subprocess against a warehouse synced from the
sandbox, and checks what it prints against what DuckDB itself returns for the query.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shlex
import shutil
import struct
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from xero_pipeline.config import DEFAULTS
from xero_pipeline.sandbox import Sandbox
from xero_pipeline_tests.resource_helpers import cli_env, run_cli

COMMAND = Path(sys.executable).parent / "xero-pipeline"  # what `make install` puts on the user's path
DEFAULT_NAME = Path(DEFAULTS["XERO_WAREHOUSE"]).name
# Real columns with NULLs of the kinds pandas used to print as NaT, <NA> and None.
QUERY = (
    "SELECT invoice_number, status, amount_due, fully_paid_on_date, _deleted_at, has_attachments, "
    "CASE WHEN status = 'PAID' THEN 1 END AS paid_flag, contact "
    "FROM xero.invoices ORDER BY tenant_id, invoice_id"
)


# One worker builds the module's synced warehouse once (`make test` uses --dist loadgroup).
pytestmark = pytest.mark.xdist_group("sql")


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> Iterator[Path]:
    # One sync for the whole module: every test here only reads the file it leaves.
    tmp = tmp_path_factory.mktemp("sql")
    db = tmp / "data" / DEFAULT_NAME
    with Sandbox(tenants=2, scale=0.02, seed=7, limits=False) as sandbox:
        result = run_cli("sync", "--select", "invoices,contacts", env=cli_env(sandbox, tmp, XERO_WAREHOUSE=str(db)))
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        yield db


def user_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("XERO_")}
    env.update(extra)
    return env


def sql(*args: str, db: Path | None, cwd: Path | None = None, prelude: str = "") -> subprocess.CompletedProcess:
    env = user_env(**({"XERO_WAREHOUSE": str(db)} if db else {}))
    if prelude:  # the same entry point, after a line of set-up in the same process
        code = f"{prelude}\nimport sys\nfrom xero_pipeline.cli.main import main\nsys.exit(main(sys.argv[1:]))"
        argv = [sys.executable, "-c", code, "sql", *args]
    else:
        argv = [str(COMMAND), "sql", *args]
    return subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, timeout=120)


def expected(db: Path, query: str = QUERY) -> tuple[list[str], list[tuple]]:
    with duckdb.connect(":memory:") as conn:
        conn.execute(f"ATTACH '{db}' AS w (READ_ONLY); USE w")
        cur = conn.execute(query)
        return [d[0] for d in cur.description], cur.fetchall()


def test_csv_is_every_row_with_nulls_as_empty_fields(warehouse):
    names, rows = expected(warehouse)
    assert any(r[3] is None for r in rows) and any(r[3] is not None for r in rows)  # the query has NULLs
    result = sql(QUERY, "--format", "csv", db=warehouse)
    assert result.returncode == 0, result.stderr
    read = list(csv.reader(io.StringIO(result.stdout)))
    assert read[0] == names
    assert len(read) - 1 == len(rows)
    for got, want in zip(read[1:], rows):
        assert got[0] == want[0] and Decimal(got[2]) == want[2]
        assert got[3] == ("" if want[3] is None else want[3].isoformat())
        assert got[4] == "" and got[6] == ("1" if want[6] == 1 else "")
        assert got[5] == str(want[5]).lower()
        assert json.loads(got[7]) == json.loads(want[7])


def test_json_is_an_array_of_objects_with_null_and_exact_numbers(warehouse):
    names, rows = expected(warehouse)
    result = sql(QUERY, "--format", "json", db=warehouse)
    assert result.returncode == 0, result.stderr
    read = json.loads(result.stdout, parse_float=Decimal)
    assert len(read) == len(rows)
    for got, want in zip(read, rows):
        assert list(got) == names
        assert got["amount_due"] == want[2] and got["paid_flag"] == want[6]
        assert got["fully_paid_on_date"] == (None if want[3] is None else want[3].isoformat())
        assert got["_deleted_at"] is None and got["has_attachments"] is want[5]
        assert got["contact"] == json.loads(want[7], parse_float=Decimal)  # JSON columns stay JSON


def test_table_and_markdown_print_null_as_null(warehouse):
    names, rows = expected(warehouse)
    for fmt in ("table", "markdown"):
        result = sql(QUERY, "--format", fmt, "--max-rows", "1000", db=warehouse)
        assert result.returncode == 0, result.stderr
        for junk in ("NaT", "<NA>", "None", "nan"):
            assert junk not in result.stdout.split(), (fmt, junk)
        lines = result.stdout.splitlines()
        body = [line for line in lines if rows[0][0] in line]
        assert body and "NULL" in body[0], (fmt, body)
        assert f"({len(rows)} rows)" in result.stdout
    md = sql(QUERY, "--format", "markdown", db=warehouse).stdout.splitlines()
    assert md[0] == "| " + " | ".join(names) + " |"
    assert set(md[1]) <= set("|-: ")
    assert md[2].startswith(f"| {rows[0][0]} | {rows[0][1]} |")


def test_table_is_the_default_and_says_when_rows_are_left_out(warehouse):
    _, rows = expected(warehouse)
    result = sql(QUERY, "--max-rows", "5", db=warehouse)
    assert result.returncode == 0, result.stderr
    assert f"({len(rows)} rows, 5 shown)" in result.stdout
    lines = result.stdout.splitlines()
    assert lines[0].split() == expected(warehouse)[0] and set(lines[1]) == {"-", " "}
    assert len(lines) == 2 + 5 + 1  # header, rule, the rows shown, the count


def test_every_statement_shows_its_result(warehouse):
    two = "SELECT count(*) AS invoices FROM xero.invoices; SELECT count(*) AS contacts FROM xero.contacts"
    (_, [(invoices,)]), (_, [(contacts,)]) = expected(warehouse, two.split(";")[0]), expected(warehouse, two.split(";")[1])
    table = sql(two, db=warehouse)
    assert table.returncode == 0, table.stderr
    lines = [line.strip() for line in table.stdout.splitlines()]
    assert lines[lines.index("invoices") + 2] == str(invoices)  # header, rule, value
    assert lines[lines.index("contacts") + 2] == str(contacts)
    as_csv = sql(two, "--format", "csv", db=warehouse)
    assert as_csv.returncode == 0, as_csv.stderr
    assert as_csv.stdout.split() == ["contacts", str(contacts)]
    assert "last" in as_csv.stderr and "2 statements" in as_csv.stderr


@pytest.mark.parametrize("query", ["", "   ", " ; ;", "-- only a comment"])
def test_an_empty_query_gets_a_message(warehouse, query):
    result = sql(query, db=warehouse)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("error: the query is empty"), result.stderr


def test_piping_into_head_prints_no_broken_pipe(warehouse):
    """Far more output than a pipe holds, cut off after one line by `head`."""
    query = "SELECT i, repeat('x', 50) AS pad FROM range(200000) t(i)"
    for fmt in ("table", "csv", "json", "markdown"):
        line = (f"{shlex.quote(str(COMMAND))} sql {shlex.quote(query)} --format {fmt} --max-rows 200000 | head -1")
        result = subprocess.run(["bash", "-c", line], env=user_env(XERO_WAREHOUSE=str(warehouse)),
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0
        assert result.stderr == "", (fmt, result.stderr[-2000:])
        assert len(result.stdout.splitlines()) == 1


def test_the_default_warehouse_is_found_from_any_directory(warehouse, tmp_path):
    """Relative paths start at the checkout, not at wherever the command is run."""
    checkout, elsewhere = tmp_path / "checkout", tmp_path / "elsewhere"
    (checkout / "sub").mkdir(parents=True)
    elsewhere.mkdir()
    pin = f"import pathlib, xero_pipeline.config as c; c.CHECKOUT = pathlib.Path({str(checkout)!r})"
    db = checkout / DEFAULTS["XERO_WAREHOUSE"]
    missing = sql("SELECT 1", db=None, cwd=elsewhere, prelude=pin)
    assert missing.returncode == 2
    assert f"there is no warehouse at {db} yet" in missing.stderr, missing.stderr
    assert not (elsewhere / "data").exists() and not db.parent.exists()  # looking creates nothing
    db.parent.mkdir(parents=True)
    shutil.copyfile(warehouse, db)
    _, [(count,)] = expected(warehouse, "SELECT count(*) FROM xero.invoices")
    for cwd in (elsewhere, checkout / "sub", checkout):
        found = sql("SELECT count(*) AS n FROM xero.invoices", "--format", "csv", db=None, cwd=cwd, prelude=pin)
        assert found.returncode == 0, found.stderr
        assert found.stdout.split() == ["n", str(count)]


def test_a_warehouse_under_the_old_default_name_is_moved_once(warehouse, tmp_path):
    """data/xero.duckdb made `xero.invoices` ambiguous in other clients; it becomes the new default file."""
    checkout = tmp_path / "checkout"
    old = checkout / "data" / "xero.duckdb"
    old.parent.mkdir(parents=True)
    shutil.copyfile(warehouse, old)
    pin = f"import pathlib, xero_pipeline.config as c; c.CHECKOUT = pathlib.Path({str(checkout)!r})"
    result = sql("SELECT count(*) AS n FROM xero.invoices", "--format", "csv", db=None, cwd=tmp_path, prelude=pin)
    assert result.returncode == 0, result.stderr
    new = checkout / DEFAULTS["XERO_WAREHOUSE"]
    assert not old.exists() and new.exists()
    assert str(old) in result.stderr and str(new) in result.stderr  # said once, naming both
    with duckdb.connect(str(new), read_only=True) as conn:
        assert [str(conn.execute("SELECT count(*) FROM xero.invoices").fetchone()[0])] == result.stdout.split()[1:]
    again = sql("SELECT 1", db=None, cwd=tmp_path, prelude=pin)
    assert again.returncode == 0 and again.stderr == ""


def header_checksum(data: bytearray) -> bytes:
    """DuckDB's checksum of the main header block (bytes 8-4096), stored in its first 8 bytes."""
    value = 5381
    for (word,) in struct.iter_unpack("<Q", bytes(data[8:4096])):
        value ^= (word * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    return struct.pack("<Q", value)


def test_a_warehouse_from_a_newer_duckdb_gets_the_way_to_convert_it(warehouse, tmp_path):
    """The header of a file written by DuckDB 2.x carries a storage version 1.4 cannot read."""
    newer = tmp_path / DEFAULT_NAME
    data = bytearray(warehouse.read_bytes())
    assert data[8:12] == b"DUCK" and header_checksum(data) == data[0:8]  # the layout is as understood
    data[12:20] = (999).to_bytes(8, "little")  # what DuckDB 2.0 writes there
    data[0:8] = header_checksum(data)
    newer.write_bytes(data)
    result = sql("SELECT 1", db=newer)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"{newer} was written by a newer DuckDB" in result.stderr, result.stderr
    assert "STORAGE_VERSION" in result.stderr and "COPY FROM DATABASE" in result.stderr
