INSERT INTO ${target} (${columns})
SELECT ${columns} FROM stg_parent s SEMI JOIN stg_changed c ON s.${pk} = c.k
