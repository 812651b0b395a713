-- Every dated event of a person (sessions, activities, outcomes, follow-ups) in one long
-- table, each with the participation that owns it by the rule of marts.fenster (null:
-- none). The participant timeline reads it, and so does every fact built on events.
-- incremental: per person
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

fenster as (
    select * from marts.fenster
),

sessions as (
    select
        a.pid,
        a.datum,
        'anwesenheit' as quelle,
        a.status as art,
        a.stunden::double as wert,
        f.teilnahme_id
    from anwesenheit as a
    left join fenster as f
        on f.pid = a.pid and a.datum between f.eintritt and f.termine_bis
),

activities as (
    select a.pid, a.datum, 'aktivitaet', a.art, a.anzahl::double, f.teilnahme_id
    from aktivitaeten as a
    left join fenster as f
        on f.pid = a.pid and a.datum between f.eintritt and f.termine_bis
),

outcomes as (
    select e.pid, e.datum, 'ergebnis', e.art, e.wochenstunden::double, f.teilnahme_id
    from ergebnisse as e
    left join fenster as f
        on f.pid = e.pid and e.datum between f.eintritt and f.ergebnisse_bis
),

followups as (
    select v.pid, v.stichtag, 'verbleib', v.status, null::double, f.teilnahme_id
    from verbleib as v
    left join fenster as f
        on f.pid = v.pid and v.stichtag between f.verbleib_von and f.verbleib_bis
),

unioned as (
    select * from sessions
    union all
    select * from activities
    union all
    select * from outcomes
    union all
    select * from followups
),

flagged as (
    select
        *,
        -- the outcome groups every KPI uses, named once: an integration (SGB II § 48a, K2)
        -- is insured work, an apprenticeship or self-employment; a job "upon leaving"
        -- (ESF) also counts mini-jobs and subsidised work, an apprenticeship not
        quelle = 'ergebnis' and art in ('svb_beschaeftigung', 'ausbildung', 'selbststaendigkeit')
            as ist_integration,
        quelle = 'ergebnis' and art in (
            'svb_beschaeftigung', 'selbststaendigkeit', 'minijob', 'gefoerderte_beschaeftigung'
        ) as ist_beschaeftigung,
        quelle = 'verbleib' and art in ({in_work_at_follow_up})
            as ist_verbleib_beschaeftigt,
        -- attended hours count up to the session length (a rate never exceeds 100 %)
        case when quelle = 'anwesenheit' then least(wert, b.session_hours) end
            as stunden_angerechnet
    from unioned
    cross join (select session_hours::double as session_hours from meta.build) as b
),

final as (
    select
        *,
        -- K2 counts at most one integration per person and calendar month: the first one
        -- of the month that a participation owns (on one day: the first art by name)
        ist_integration and teilnahme_id is not null and row_number() over (
            partition by pid, date_trunc('month', datum), ist_integration and teilnahme_id is not null
            order by datum, art
        ) = 1 as k2_integration
    from flagged
)

select * from final
order by pid, datum, quelle, art
