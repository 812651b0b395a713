-- Every dated event of a person, for the participant timeline: sessions, activities,
-- outcomes and follow-ups, in one long table.
create or replace table marts.ereignisse as
with

anwesenheit as (
    select * from staging.stg_anwesenheit
),

aktivitaeten as (
    select * from staging.stg_aktivitaeten
),

ergebnisse as (
    select * from staging.stg_ergebnisse
),

verbleib as (
    select * from staging.stg_verbleib
),

final as (
    select pid, datum, 'anwesenheit' as quelle, status as art, stunden::double as wert
    from anwesenheit
    union all
    select pid, datum, 'aktivitaet', art, anzahl::double
    from aktivitaeten
    union all
    select pid, datum, 'ergebnis', art, wochenstunden::double
    from ergebnisse
    union all
    select pid, stichtag, 'verbleib', status, null
    from verbleib
)

select * from final
order by pid, datum
