-- The spooled children that came with the winning copy of each changed parent.
SELECT ${columns} FROM (${spooled}) s
JOIN stg_changed c ON s.${parent_key} = c.k AND s._seq = c.seq
