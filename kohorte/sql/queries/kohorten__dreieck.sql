-- access: aggregate
-- Cohort triangle: per entry month (or ISO entry week when $raster = 'woche'), the
-- cumulative share of participations integrated (first integration) by week since entry;
-- a cell exists only once that week has passed for every member of the cohort.
-- A participation counts as integrated by week w when its first integration came less
-- than 7 * w days after entry, i.e. from week floor(days / 7) + 1 on: one row per
-- participation, not one per participation and week (7 million rows at national scale).
with

teilnahmen as (
    select * from marts.auswahl({filter_args})
),

build as (
    select as_of from meta.build
),

weeks as (
    select unnest(range(1, 13)) as woche
),

people as (
    select
        case when $raster = 'woche' then kohorte_woche else kohorte_monat end as kohorte,
        eintritt,
        floor(datediff('day', eintritt, erste_integration_datum) / 7)::integer + 1
            as erste_woche
    from teilnahmen
),

cohorts as (
    select kohorte, count(*) as teilnahmen, max(eintritt) as letzter_eintritt
    from people
    group by 1
),

first_weeks as (
    select kohorte, erste_woche, count(*) as n
    from people
    where erste_woche <= 12
    group by 1, 2
),

cells as (
    select
        c.kohorte,
        w.woche,
        c.teilnahmen,
        coalesce(sum(f.n), 0) as integriert,
        c.letzter_eintritt + to_days(7 * w.woche) <= any_value(b.as_of) as abgeschlossen
    from cohorts as c
    cross join weeks as w
    cross join build as b
    left join first_weeks as f on f.kohorte = c.kohorte and f.erste_woche <= w.woche
    group by c.kohorte, w.woche, c.teilnahmen, c.letzter_eintritt
)

select kohorte, woche, teilnahmen, integriert
from cells
where abgeschlossen
order by kohorte, woche
