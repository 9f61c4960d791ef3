-- The load's parents, one row per key. A key can appear twice when records were
-- inserted while we paged; the later copy (higher _seq) is the newer one.
CREATE OR REPLACE TEMP TABLE stg_parent AS
${spooled}
QUALIFY row_number() OVER (PARTITION BY ${pk} ORDER BY _seq DESC) = 1
