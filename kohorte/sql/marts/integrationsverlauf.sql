-- Time to first integration as a Kaplan-Meier curve, per entry cohort (month YYYY-MM and
-- ISO week YYYY-Www) and overall ('gesamt').
-- A participation is observed from entry until its first integration (the event) or until
-- its observation ends: 28 days after exit, or the as-of date if that comes first. People
-- still active or who left without integration are censored there, not counted as
-- failures, so young cohorts are not made to look worse than they are.
create or replace table marts.integrationsverlauf as
with

teilnahmen as (
    select * from marts.teilnahmen
),

build as (
    select as_of from meta.build
),

observed as (
    select
        t.kohorte_monat,
        t.kohorte_woche,
        t.erste_integration_datum is not null as ereignis,
        datediff(
            'day',
            t.eintritt,
            coalesce(
                t.erste_integration_datum,
                least(coalesce(t.austritt + interval 28 day, b.as_of), b.as_of)
            )
        ) as tage
    from teilnahmen as t
    cross join build as b
),

cohorts as (
    select kohorte_monat as kohorte, ereignis, tage from observed
    union all
    select kohorte_woche, ereignis, tage from observed
    union all
    select 'gesamt', ereignis, tage from observed
),

per_day as (
    select
        kohorte,
        tage,
        count(*) filter (where ereignis) as ereignisse,
        count(*) filter (where not ereignis) as zensiert,
        count(*) as beendet
    from cohorts
    group by kohorte, tage
),

at_risk as (
    -- everyone whose observation lasts at least this long is at risk on that day
    select
        *,
        sum(beendet) over (
            partition by kohorte order by tage desc
            rows between unbounded preceding and current row
        ) as unter_risiko
    from per_day
),

steps as (
    select
        *,
        1 - ereignisse / unter_risiko as faktor
    from at_risk
),

final as (
    select
        kohorte,
        tage,
        unter_risiko,
        ereignisse,
        zensiert,
        -- the product of the factors so far, rounded to 12 places so that exactly one
        -- half is 0.5 (the median's test)
        round(1 - product(faktor) over w, 12) as anteil_integriert
    from steps
    window w as (
        partition by kohorte order by tage
        rows between unbounded preceding and current row
    )
)

select * from final
order by kohorte, tage
