-- Every session of a known participation is in marts.ereignis_summen exactly once,
-- whatever number of participations cover it (returns the months that differ).
with

known as (
    select date_trunc('month', a.datum)::date as monat, count(*) as termine
    from staging.stg_anwesenheit as a
    where exists (
        select 1 from marts.teilnahmen as t
        where t.pid = a.pid and a.datum between t.eintritt and coalesce(t.austritt, a.datum)
    )
    group by 1
),

stored as (
    select monat, sum(termine) as termine
    from marts.ereignis_summen
    group by monat
)

select coalesce(k.monat, s.monat) as monat, k.termine as sitzungen, s.termine as in_der_mart
from known as k
full outer join stored as s using (monat)
where coalesce(k.termine, 0) <> coalesce(s.termine, 0)
