-- access: aggregate
-- Cohort triangle: per entry month (or ISO entry week when $raster = 'woche'), the
-- cumulative share of participations integrated (first integration) by week since entry;
-- a cell exists only once that week has passed for every member of the cohort.
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

cells as (
    select
        case when $raster = 'woche' then t.kohorte_woche else t.kohorte_monat end as kohorte,
        w.woche,
        count(*) as teilnahmen,
        count(*) filter (
            where t.erste_integration_datum < t.eintritt + to_days(7 * w.woche)
        ) as integriert,
        max(t.eintritt + to_days(7 * w.woche)) <= any_value(b.as_of) as abgeschlossen
    from teilnahmen as t
    cross join weeks as w
    cross join build as b
    group by 1, 2
)

select kohorte, woche, teilnahmen, integriert
from cells
where abgeschlossen
order by kohorte, woche
