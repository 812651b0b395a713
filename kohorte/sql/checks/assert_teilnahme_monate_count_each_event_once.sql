-- de: Jeder Termin, jede Aktivität und jedes Ergebnis zählt in den Monatszahlen genau einmal
-- en: Every session, activity and outcome counts exactly once in the monthly figures
-- Every session, activity and outcome that a participation owns is in
-- marts.teilnahme_monate exactly once (returns the months that differ).
with

owned as (
    select
        date_trunc('month', datum)::date as monat,
        count(*) filter (where quelle = 'anwesenheit') as termine,
        count(*) filter (where quelle = 'ergebnis' and art = 'minijob') as minijobs
    from marts.ereignisse
    where teilnahme_id is not null
    group by 1
),

stored as (
    select monat, sum(termine) as termine, sum(minijobs) as minijobs
    from marts.teilnahme_monate
    group by monat
)

select coalesce(o.monat, s.monat) as monat, o.termine, s.termine as in_der_mart
from owned as o
full outer join stored as s using (monat)
where coalesce(o.termine, 0) <> coalesce(s.termine, 0)
    or coalesce(o.minijobs, 0) <> coalesce(s.minijobs, 0)
