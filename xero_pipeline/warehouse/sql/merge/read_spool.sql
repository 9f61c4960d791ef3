-- One spool file, every column typed as the table declares (and _seq, the record's
-- position in the load); the REPLACE fragment, if any, casts columns read as text
-- into the table's type. One record of Xero's is far below 16 MiB, DuckDB's default
-- largest object; the reader's buffers are twice that per thread, inside memory_limit.
SELECT * ${replace} FROM read_json(${path}, format = 'newline_delimited', columns = {${columns}},
                        maximum_object_size = 16777216)
