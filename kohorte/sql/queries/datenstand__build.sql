-- access: status
-- What the published warehouse is: its run, as-of date and build time.
select
    run_id,
    as_of,
    load_date,
    built_at,
    (select count(*) from meta.deliveries) as lieferungen,
    (select count(*) from meta.checks where not passed and severity = 'warn') as warnungen
from meta.build
