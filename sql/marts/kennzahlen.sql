-- The headline KPIs, one row each, with numerator, denominator and window (docs/kpis.md).
-- Windows end at the data's as-of date; "12 months" means (as_of - 12 months, as_of].
create or replace table marts.kennzahlen as
with

teilnahmen as (
    select * from marts.teilnahmen
),

anwesenheit as (
    select * from staging.stg_anwesenheit
),

build as (
    select as_of, session_hours, as_of - interval 12 month as window_start from meta.build
),

exits_12m as (
    select t.*
    from teilnahmen as t, build as b
    where t.austritt > b.window_start and t.austritt <= b.as_of
),

kpis as (
    select
        'aktive_teilnehmende' as kennzahl,
        count(*) filter (where aktiv and eintritt <= (select as_of from build)) as zaehler,
        null::bigint as nenner,
        (select as_of from build) as fenster_von
    from teilnahmen

    union all
    select
        'eintritte_12m',
        count(*),
        null,
        (select window_start from build)::date
    from teilnahmen, build
    where eintritt > build.window_start and eintritt <= build.as_of

    union all
    select 'austritte_12m', count(*), null, (select window_start from build)::date
    from exits_12m

    union all
    -- exits whose 28-day window closed in the last 12 months; integrated within it
    select
        'integrationsquote',
        count(*) filter (where integriert_bis_28_tage),
        count(*),
        (select window_start - interval 28 day from build)::date
    from teilnahmen, build
    where austritt + interval 28 day > build.window_start
        and austritt + interval 28 day <= build.as_of

    union all
    -- persons (not participations) with an integration since the programme started
    select
        'in_arbeit_seit_start',
        count(distinct pid) filter (where integriert_bis_28_tage),
        count(distinct pid),
        (select min(eintritt) from teilnahmen)
    from teilnahmen

    union all
    select
        'anwesenheitsquote',
        sum(stunden),
        count(*) * any_value(build.session_hours),
        (select window_start from build)::date
    from anwesenheit, build
    where datum > build.window_start and datum <= build.as_of
        and exists (
            select 1 from teilnahmen as t
            where t.pid = anwesenheit.pid
                and anwesenheit.datum between t.eintritt and coalesce(t.austritt, anwesenheit.datum)
        )

    union all
    select
        'abbruchquote',
        count(*) filter (where austrittsgrund = 'abbruch'),
        count(*),
        (select window_start from build)::date
    from exits_12m

    union all
    -- Eingliederungsquote-style: exits whose follow-up came due in the last 12 months;
    -- a missing follow-up counts as not employed
    select
        'verbleibsquote_6m',
        count(*) filter (where verbleib_beschaeftigt),
        count(*),
        (select window_start - interval 6 month from build)::date
    from teilnahmen, build
    where austritt + interval 6 month > build.window_start
        and austritt + interval 6 month <= build.as_of
),

final as (
    select
        kennzahl,
        zaehler::decimal(14, 2) as zaehler,
        nenner::decimal(14, 2) as nenner,
        case when nenner > 0 then round(zaehler / nenner, 4) end as quote,
        fenster_von,
        (select as_of from build) as fenster_bis
    from kpis
)

select * from final
