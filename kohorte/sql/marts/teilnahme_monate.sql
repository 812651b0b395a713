-- The facts at participation x month grain: the events each participation owns
-- (marts.ereignisse), summed per calendar month and KPI period. A selection's sessions,
-- activities and outcomes are the rows of its participations, so every filter is a
-- predicate over participations and every partition adds up.
-- periode: the KPI window the events fall in ('aktuell': the 12 months to the as-of
-- date, 'vorjahr': the 12 months before), null outside both; a month that straddles a
-- window's start has a row on each side.
create or replace table marts.teilnahme_monate as
with

ereignisse as (
    select * from marts.ereignisse where teilnahme_id is not null
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

placed as (
    select
        e.*,
        date_trunc('month', e.datum)::date as monat,
        case
            when e.datum > w.start_aktuell and e.datum <= w.stichtag_aktuell then 'aktuell'
            when e.datum > w.start_vorjahr and e.datum <= w.stichtag_vorjahr then 'vorjahr'
        end as periode
    from ereignisse as e
    cross join windows as w
    where e.quelle in ('anwesenheit', 'aktivitaet', 'ergebnis')
),

final as (
    select
        teilnahme_id,
        monat,
        periode,
        count(*) filter (where quelle = 'anwesenheit')::bigint as termine,
        coalesce(sum(stunden_angerechnet), 0)::decimal(14, 2) as stunden,
        count(*) filter (where quelle = 'anwesenheit' and art = 'unentschuldigt')::bigint
            as unentschuldigt,
        coalesce(sum(wert) filter (where quelle = 'aktivitaet' and art = 'bewerbung'), 0)::bigint
            as bewerbungen,
        coalesce(
            sum(wert) filter (where quelle = 'aktivitaet' and art = 'vorstellungsgespraech'), 0
        )::bigint as vorstellungsgespraeche,
        coalesce(
            sum(wert) filter (where quelle = 'aktivitaet' and art = 'arbeitgeberkontakt'), 0
        )::bigint as arbeitgeberkontakte,
        count(*) filter (where k2_integration)::bigint as integrationen_k2,
        count(*) filter (where quelle = 'ergebnis' and art = 'minijob')::bigint as minijobs,
        count(*) filter (where quelle = 'ergebnis' and art = 'gefoerderte_beschaeftigung')::bigint
            as gefoerderte,
        count(*) filter (where quelle = 'ergebnis' and art = 'praktikum')::bigint as praktika,
        count(*) filter (where quelle = 'ergebnis' and art = 'weiterbildung')::bigint
            as weiterbildungen
    from placed
    group by teilnahme_id, monat, periode
)

select * from final
order by teilnahme_id, monat, periode
