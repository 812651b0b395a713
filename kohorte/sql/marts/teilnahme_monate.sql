-- The facts at participation x month grain: the events each participation owns
-- (marts.ereignisse), summed per calendar month. A selection's sessions, activities and
-- outcomes are the rows of its participations, so every filter is a predicate over
-- participations and every partition adds up.
-- Each month is cut in two at the as-of date's day of month (abschnitt_ende: the last day
-- of its part), so that every KPI window lies on whole parts: the 12 months to the as-of
-- date, or to one year before it, begin the day after that day of month, and a programme
-- year on the first of a month. A KPI counts a part when abschnitt_ende is in its window.
create or replace table marts.teilnahme_monate as
with

ereignisse as (
    select * from marts.ereignisse where teilnahme_id is not null
),

build as (
    select day(as_of) as schnitt from meta.build
),

placed as (
    select
        e.*,
        date_trunc('month', e.datum)::date as monat,
        case
            when day(e.datum) <= b.schnitt
                then least(
                    (date_trunc('month', e.datum) + to_days(b.schnitt - 1))::date,
                    last_day(e.datum)
                )
            else last_day(e.datum)
        end as abschnitt_ende
    from ereignisse as e
    cross join build as b
    where e.quelle in ('anwesenheit', 'aktivitaet', 'ergebnis')
),

final as (
    select
        teilnahme_id,
        monat,
        abschnitt_ende,
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
    group by teilnahme_id, monat, abschnitt_ende
)

select * from final
order by teilnahme_id, monat, abschnitt_ende
