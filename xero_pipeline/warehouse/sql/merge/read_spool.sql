-- One spool file, every column typed as the table declares (and _seq, the record's
-- position in the load).
SELECT * FROM read_json(${path}, format = 'newline_delimited', columns = {${columns}},
                        maximum_object_size = 67108864)
