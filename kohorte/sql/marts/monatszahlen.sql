-- Monthly figures from the first entry to the data's as-of month: the basis of every trend
-- and of the monthly rates (numerator and denominator per month, with what can still change).
--
-- As with the KPIs, the table macro monatszahlen_fuer() serves a selection of
-- participations (marts.auswahl) and marts.monatszahlen is the same for the whole programme.
-- Exits are counted in the month of exit; their outcomes (28 days) and follow-up
-- (6 months) arrive later, so a month stays provisional until the last of them is due.
-- For the whole programme (no filter) the figures of participations that retention has
-- deleted are added from meta.archive_monatszahlen, so the totals stay as published; a
-- filtered view covers the retained participations only.
create or replace macro marts.monatszahlen_fuer({filter_params}) as table
with

teilnahmen as (
    select * from marts.auswahl({filter_params})
),

alle as (
    select * from marts.teilnahmen
),

-- sessions of the selection: the months of its participations (the events each owns)
monate as (
    select m.*
    from marts.teilnahme_monate as m
    semi join teilnahmen as t on t.teilnahme_id = m.teilnahme_id
),

build as (
    select as_of, session_hours from meta.build
),

archiv as (
    select *
    from meta.archive_monatszahlen
    where {whole_programme}
),

-- the months of the whole programme, so a selection gets the same x-axis
months as (
    select unnest(generate_series(
        least(
            (select min(eintritt_monat) from alle),
            (select min(monat) from meta.archive_monatszahlen)
        ),
        (select date_trunc('month', as_of)::date from build),
        interval 1 month
    ))::date as monat
),

-- the monthly columns of the KPIs, generated from their definitions (kohorte/define/kpis.py)
{monthly_groups},

active as (
    select
        m.monat,
        count(t.teilnahme_id) as aktive_am_monatsende
    from months as m
    left join teilnahmen as t
        -- running at the month's end, or on the as-of date in the running month
        on marts.laeuft(t.eintritt, t.austritt, least(last_day(m.monat), (select as_of from build)))
    group by 1
),

retained as (
    select
        m.monat,
        -- the running month is incomplete: everything in it can still change
        m.monat = (select date_trunc('month', as_of)::date from build) as laufender_monat,
        {monthly_retained},
        coalesce(a.aktive_am_monatsende, 0) as aktive_am_monatsende
    from months as m
    {monthly_joins}
    left join active as a on a.monat = m.monat
),

final as (
    select
        r.monat,
        r.laufender_monat,
        {monthly_final},
        (r.aktive_am_monatsende + coalesce(z.aktive_am_monatsende, 0))::bigint
            as aktive_am_monatsende
    from retained as r
    left join archiv as z on z.monat = r.monat
)

select * from final
order by monat;

create or replace table marts.monatszahlen as
select * from marts.monatszahlen_fuer({whole_programme_args});
