-- Sessions and activities of known participations, summed per KPI period and per set of
-- participations they fall into, for marts.kennzahlen_fuer().
--
-- Why: a filtered view (one site) had to scan all sessions and activities of the
-- programme to find those in a selected participation (11 and 9 million rows at
-- national scale, 1.2 s for the KPI cards). The periods are fixed per build (the 12
-- months to the as-of date and the 12 months before), so the events are attributed and
-- summed once here; a selection then sums the rows of its participations.
-- An event counts for a selection when any participation covering it is selected: the
-- set (almost always one participation; re-entries can overlap) is kept as a list, so
-- an event in two selected participations still counts once.
create or replace table marts.kennzahl_ereignisse as
with

teilnahmen as (
    select * from marts.teilnahmen
),

build as (
    select as_of from meta.build
),

periods as (
    select 'aktuell' as periode, as_of as stichtag from build
    union all
    select 'vorjahr', (as_of - interval 12 month)::date from build
),

windows as (
    select periode, stichtag, (stichtag - interval 12 month)::date as window_start
    from periods
),

-- each session with the participations covering its day (sessions of nobody's
-- participation are left out, as in the KPIs: a data check reports them)
sessions as (
    select
        a.pid,
        a.datum,
        any_value(a.status) as status,
        any_value(a.stunden) as stunden,
        list(t.teilnahme_id order by t.teilnahme_id) as teilnahmen
    from staging.stg_anwesenheit as a
    inner join teilnahmen as t
        on t.pid = a.pid and a.datum between t.eintritt and coalesce(t.austritt, a.datum)
    group by a.pid, a.datum
),

activities as (
    select
        a.pid,
        a.datum,
        a.art,
        any_value(a.anzahl) as anzahl,
        list(t.teilnahme_id order by t.teilnahme_id) as teilnahmen
    from staging.stg_aktivitaeten as a
    inner join teilnahmen as t
        on t.pid = a.pid and a.datum between t.eintritt and coalesce(t.austritt, a.datum)
    group by a.pid, a.datum, a.art
),

events as (
    select
        w.periode,
        s.teilnahmen,
        1 as termine,
        s.stunden,
        (s.status = 'unentschuldigt')::integer as unentschuldigt,
        0 as bewerbungen,
        0 as vorstellungsgespraeche,
        0 as arbeitgeberkontakte
    from sessions as s
    inner join windows as w on s.datum > w.window_start and s.datum <= w.stichtag
    union all
    select
        w.periode,
        a.teilnahmen,
        0,
        null,
        0,
        case when a.art = 'bewerbung' then a.anzahl else 0 end,
        case when a.art = 'vorstellungsgespraech' then a.anzahl else 0 end,
        case when a.art = 'arbeitgeberkontakt' then a.anzahl else 0 end
    from activities as a
    inner join windows as w on a.datum > w.window_start and a.datum <= w.stichtag
),

sums as (
    select
        periode,
        teilnahmen,
        sum(termine)::bigint as termine,
        sum(stunden) as stunden,
        sum(unentschuldigt)::bigint as unentschuldigt,
        sum(bewerbungen) as bewerbungen,
        sum(vorstellungsgespraeche) as vorstellungsgespraeche,
        sum(arbeitgeberkontakte) as arbeitgeberkontakte
    from events
    group by periode, teilnahmen
),

final as (
    select
        row_number() over (order by periode, teilnahmen) as gruppe,
        *
    from sums
)

select * from final
order by gruppe;
