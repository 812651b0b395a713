-- access: aggregate
-- Every rate by month for the selection, with the same month a year earlier as baseline.
-- A month is provisional (vorlaeufig) while its numbers can still change: the running
-- month, exits whose 28-day window is open, or whose 6-month follow-up is not yet due.
with

monate as (
    select * from marts.monatszahlen_fuer({filter_args})
),

quoten as (
    select
        m.monat,
        q.kennzahl,
        q.zaehler,
        q.nenner,
        m.laufender_monat or q.offen > 0 as vorlaeufig
    from monate as m
    cross join lateral (
        values
            {monthly_rates}
    ) as q(kennzahl, zaehler, nenner, offen)
)

select
    q.monat,
    q.kennzahl,
    q.zaehler::double as zaehler,
    q.nenner::double as nenner,
    q.vorlaeufig,
    v.zaehler::double as vorjahr_zaehler,
    v.nenner::double as vorjahr_nenner,
    v.vorlaeufig as vorjahr_vorlaeufig
from quoten as q
left join quoten as v
    on v.kennzahl = q.kennzahl and v.monat = (q.monat - interval 12 month)::date
where q.monat >= $start
order by q.kennzahl, q.monat
