-- Sessions and activities of known participations, summed per set of participations
-- they fall into, month and KPI period: what marts.kennzahlen_fuer() and
-- marts.monatszahlen_fuer() sum for a selection (its groups' participations: ereignis_gruppen).
--
-- Why: a filtered view (one site) had to scan all sessions and activities of the
-- programme to find those in a selected participation (11 and 9 million rows at
-- national scale: 1.2 s for the KPI cards, 0.6 s for the monthly figures). Here each
-- event is attributed once per build; a selection then sums the rows of its
-- participations. An event counts for a selection when any participation covering it is
-- selected: the set (almost always one participation; re-entries can overlap) is one
-- group, so an event in two selected participations still counts once.
-- periode: the KPI window the event falls in ('aktuell': the 12 months to the as-of
-- date, 'vorjahr': the 12 months before), null outside both; a month that straddles a
-- window's start has a row on each side.
create or replace table marts.ereignis_summen as
with

teilnahmen as (
    select * from marts.teilnahmen
),

build as (
    select as_of from meta.build
),

-- the KPI windows exactly as marts.kennzahlen_fuer() computes them: (start, stichtag]
windows as (
    select
        as_of as stichtag_aktuell,
        (as_of - interval 12 month)::date as start_aktuell,
        (as_of - interval 12 month)::date as stichtag_vorjahr,
        ((as_of - interval 12 month)::date - interval 12 month)::date as start_vorjahr
    from build
),

-- Each person's timeline cut into segments where the set of participations covering a
-- day stays the same (cuts at every entry and the day after every exit); a participation
-- without exit covers every day from its entry. Segments are disjoint, so each event
-- falls into exactly one: no grouping of 20 million events by their participations.
cuts as (
    select pid, eintritt as tag from teilnahmen
    union
    select pid, (austritt + 1)::date from teilnahmen where austritt is not null
),

segments as (
    select
        pid,
        tag as von,
        (lead(tag) over (partition by pid order by tag) - 1)::date as bis
    from cuts
),

covering as (
    select
        s.pid,
        s.von,
        s.bis,
        list(t.teilnahme_id order by t.teilnahme_id) as teilnahmen
    from segments as s
    inner join teilnahmen as t
        on t.pid = s.pid
        and t.eintritt <= s.von
        and coalesce(t.austritt, s.von) >= s.von
    group by s.pid, s.von, s.bis
),

-- a number for each set of participations: events are summed by it, not by the list
covered as (
    select *, dense_rank() over (order by teilnahmen) as gruppe
    from covering
),

-- sessions and activities of nobody's participation fall into no segment and are left
-- out, as in the KPIs (a data check reports such sessions)
sessions as (
    select a.pid, a.datum, a.status, a.stunden, c.gruppe, c.teilnahmen
    from staging.stg_anwesenheit as a
    inner join covered as c
        on c.pid = a.pid and a.datum >= c.von and a.datum <= coalesce(c.bis, a.datum)
),

activities as (
    select a.pid, a.datum, a.art, a.anzahl, c.gruppe, c.teilnahmen
    from staging.stg_aktivitaeten as a
    inner join covered as c
        on c.pid = a.pid and a.datum >= c.von and a.datum <= coalesce(c.bis, a.datum)
),

events as (
    select
        gruppe,
        teilnahmen,
        datum,
        1 as termine,
        stunden,
        (status = 'unentschuldigt')::integer as unentschuldigt,
        0 as bewerbungen,
        0 as vorstellungsgespraeche,
        0 as arbeitgeberkontakte
    from sessions
    union all
    select
        gruppe,
        teilnahmen,
        datum,
        0,
        null,
        0,
        case when art = 'bewerbung' then anzahl else 0 end,
        case when art = 'vorstellungsgespraech' then anzahl else 0 end,
        case when art = 'arbeitgeberkontakt' then anzahl else 0 end
    from activities
),

placed as (
    select
        e.*,
        date_trunc('month', e.datum)::date as monat,
        case
            when e.datum > w.start_aktuell and e.datum <= w.stichtag_aktuell then 'aktuell'
            when e.datum > w.start_vorjahr and e.datum <= w.stichtag_vorjahr then 'vorjahr'
        end as periode
    from events as e
    cross join windows as w
),

final as (
    select
        gruppe,
        any_value(teilnahmen) as teilnahmen,
        monat,
        periode,
        sum(termine)::bigint as termine,
        sum(stunden) as stunden,
        sum(unentschuldigt)::bigint as unentschuldigt,
        sum(bewerbungen) as bewerbungen,
        sum(vorstellungsgespraeche) as vorstellungsgespraeche,
        sum(arbeitgeberkontakte) as arbeitgeberkontakte
    from placed
    group by gruppe, monat, periode
)

select * from final
order by gruppe, monat, periode;
