"""Write sessions share one DuckDB instance per process (``warehouse.host``), and still
hold the file only while they last: after a session ends, however it ended, another
process can write the file, and commits are in the file for every client."""

from __future__ import annotations

import subprocess
import sys

import duckdb
import pytest

from xero_pipeline.warehouse.connection import close_writer, open_writer, transaction

WRITE_ELSEWHERE = """
import sys, duckdb
conn = duckdb.connect(sys.argv[1])
conn.execute("INSERT INTO xero.t VALUES (100)")
print(conn.execute("SELECT count(*) FROM xero.t").fetchone()[0])
conn.close()
"""
HOLD = """
import sys, duckdb
conn = duckdb.connect(sys.argv[1])
print("holding", flush=True)
sys.stdin.readline()
"""


def config(db) -> dict:
    return {"memory_limit": "256MB", "temp_directory": f"{db}.tmp", "preserve_insertion_order": False}


def write_elsewhere(db) -> int:
    done = subprocess.run([sys.executable, "-c", WRITE_ELSEWHERE, str(db)], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    return int(done.stdout)


def test_after_each_session_however_it_ended_another_process_can_write_the_file(tmp_path):
    db = tmp_path / "warehouse.duckdb"
    conn = open_writer(db, config=config(db))
    conn.execute("CREATE SCHEMA xero; CREATE TABLE xero.t (a INTEGER)")
    with transaction(conn):
        conn.execute("INSERT INTO xero.t VALUES (1)")
    close_writer(conn, db)
    assert write_elsewhere(db) == 2  # the commit is there for another client

    conn = open_writer(db, config=config(db))
    with pytest.raises(duckdb.Error), transaction(conn):  # a session whose transaction failed
        conn.execute("INSERT INTO xero.t VALUES (2)")
        conn.execute("SELECT no_such_column FROM xero.t")
    close_writer(conn, db)
    assert write_elsewhere(db) == 3  # rolled back, and the file let go

    conn = open_writer(db, config=config(db))
    conn.execute("BEGIN TRANSACTION")
    conn.execute("INSERT INTO xero.t VALUES (3)")  # never committed: the session just ends
    close_writer(conn, db)
    assert write_elsewhere(db) == 4


def test_a_file_held_elsewhere_is_refused_and_a_later_session_gets_it(tmp_path):
    db = tmp_path / "warehouse.duckdb"
    conn = open_writer(db, config=config(db))
    conn.execute("CREATE SCHEMA xero; CREATE TABLE xero.t (a INTEGER)")
    close_writer(conn, db)
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(db)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True)
    try:
        assert holder.stdout.readline().strip() == "holding"
        with pytest.raises(duckdb.IOException, match="lock"):
            open_writer(db, config=config(db))
    finally:
        holder.communicate("\n", timeout=60)
    conn = open_writer(db, config={**config(db), "memory_limit": "1GB"})  # settings change per session
    try:
        assert conn.execute("SELECT current_setting('memory_limit')").fetchone()[0] != "244.1 MiB"
        conn.execute("INSERT INTO xero.t VALUES (1)")
    finally:
        close_writer(conn, db)
    assert write_elsewhere(db) == 2
