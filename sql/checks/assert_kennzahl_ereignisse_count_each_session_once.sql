-- Every session of a known participation in a KPI period is in marts.kennzahl_ereignisse
-- exactly once, whatever number of participations cover it (returns periods that differ).
with

build as (
    select as_of from meta.build
),

windows as (
    select 'aktuell' as periode, as_of as stichtag, (as_of - interval 12 month)::date as von
    from build
    union all
    select 'vorjahr', (as_of - interval 12 month)::date, (as_of - interval 24 month)::date
    from build
),

known as (
    select w.periode, count(*) as termine
    from staging.stg_anwesenheit as a
    inner join windows as w on a.datum > w.von and a.datum <= w.stichtag
    where exists (
        select 1 from marts.teilnahmen as t
        where t.pid = a.pid and a.datum between t.eintritt and coalesce(t.austritt, a.datum)
    )
    group by w.periode
),

stored as (
    select periode, sum(termine) as termine
    from marts.kennzahl_ereignisse
    group by periode
)

select w.periode, k.termine as sitzungen, s.termine as in_der_mart
from windows as w
left join known as k using (periode)
left join stored as s using (periode)
where coalesce(k.termine, 0) <> coalesce(s.termine, 0)
