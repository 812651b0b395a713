-- One row per participation with everything the KPIs need: attendance, first integration,
-- follow-up. Outcomes and sessions belong to the participation whose window holds them.
create or replace table marts.teilnahmen as
with

teilnahmen as (
    select * from staging.stg_teilnehmende
),

anwesenheit as (
    select * from staging.stg_anwesenheit
),

ergebnisse as (
    select * from staging.stg_ergebnisse
),

verbleib as (
    select * from staging.stg_verbleib
),

aktivitaeten as (
    select * from staging.stg_aktivitaeten
),

build as (
    select as_of, session_hours, default_site from meta.build
),

windows as (
    -- a person's next participation closes the window of the previous one
    select
        t.*,
        lead(t.eintritt) over (partition by t.pid order by t.eintritt) as naechster_eintritt,
        t.pid || '-' || strftime(t.eintritt, '%Y%m%d') as teilnahme_id
    from teilnahmen as t
),

sessions as (
    select
        w.teilnahme_id,
        count(*) as termine,
        count(*) filter (where a.status = 'anwesend') as termine_anwesend,
        count(*) filter (where a.status = 'entschuldigt') as termine_entschuldigt,
        count(*) filter (where a.status = 'unentschuldigt') as termine_unentschuldigt,
        sum(a.stunden) as stunden_anwesend
    from windows as w
    inner join anwesenheit as a
        on a.pid = w.pid
        and a.datum >= w.eintritt
        and a.datum <= coalesce(w.austritt, a.datum)
        and a.datum < coalesce(w.naechster_eintritt, date '9999-12-31')
    group by w.teilnahme_id
),

activities as (
    select
        w.teilnahme_id,
        coalesce(sum(a.anzahl) filter (where a.art = 'bewerbung'), 0) as bewerbungen,
        coalesce(sum(a.anzahl) filter (where a.art = 'vorstellungsgespraech'), 0)
            as vorstellungsgespraeche,
        coalesce(sum(a.anzahl) filter (where a.art = 'arbeitgeberkontakt'), 0)
            as arbeitgeberkontakte,
        coalesce(sum(a.anzahl) filter (where a.art = 'beratung'), 0) as beratungen
    from windows as w
    inner join aktivitaeten as a
        on a.pid = w.pid
        and a.datum >= w.eintritt
        and a.datum <= coalesce(w.austritt, a.datum)
        and a.datum < coalesce(w.naechster_eintritt, date '9999-12-31')
    group by w.teilnahme_id
),

integrations as (
    -- K2 integration: work subject to social insurance, apprenticeship, self-employment,
    -- starting between entry and 28 days after leaving (ESF "upon leaving" window)
    select
        w.teilnahme_id,
        arg_min(e.art, e.datum) as erste_integration_art,
        min(e.datum) as erste_integration_datum
    from windows as w
    inner join ergebnisse as e
        on e.pid = w.pid
        and e.datum >= w.eintritt
        and e.datum <= coalesce(w.austritt + interval 28 day, e.datum)
        and e.datum < coalesce(w.naechster_eintritt, date '9999-12-31')
    where e.art in ('svb_beschaeftigung', 'ausbildung', 'selbststaendigkeit')
    group by w.teilnahme_id
),

leaving as (
    -- ESF "upon leaving": the last outcome between entry and 28 days after exit decides
    select
        w.teilnahme_id,
        arg_max(e.art, e.datum) in (
            'svb_beschaeftigung', 'selbststaendigkeit', 'minijob', 'gefoerderte_beschaeftigung'
        ) as beschaeftigt_bei_austritt
    from windows as w
    inner join ergebnisse as e
        on e.pid = w.pid
        and e.datum between w.eintritt and w.austritt + interval 28 day
        and e.datum < coalesce(w.naechster_eintritt, date '9999-12-31')
    where w.austritt is not null
    group by w.teilnahme_id
),

followups as (
    -- the follow-up status closest to six months after leaving (150 to 210 days)
    select
        w.teilnahme_id,
        arg_min(v.status, abs(datediff('day', w.austritt + interval 6 month, v.stichtag)))
            as verbleib_status
    from windows as w
    inner join verbleib as v
        on v.pid = w.pid
        and v.stichtag between w.austritt + interval 150 day and w.austritt + interval 210 day
    where w.austritt is not null
    group by w.teilnahme_id
),

final as (
    select
        w.teilnahme_id,
        w.pid,
        w.eintritt,
        w.austritt,
        w.austrittsgrund,
        w.coach,
        -- a delivery without the optional column gets the configured site
        coalesce(w.standort, b.default_site) as standort,
        w.geschlecht,
        w.geburtsjahr,
        year(w.eintritt) - w.geburtsjahr as alter_bei_eintritt,
        w.langzeitleistungsbezug,
        w.berufsabschluss,
        date_trunc('month', w.eintritt)::date as eintritt_monat,
        date_trunc('month', w.austritt)::date as austritt_monat,
        -- cohort labels: entry month and ISO entry week
        strftime(w.eintritt, '%Y-%m') as kohorte_monat,
        strftime(w.eintritt, '%G-W%V') as kohorte_woche,
        w.austritt is null or w.austritt >= b.as_of as aktiv,
        coalesce(s.termine, 0) as termine,
        coalesce(s.termine_anwesend, 0) as termine_anwesend,
        coalesce(s.termine_entschuldigt, 0) as termine_entschuldigt,
        coalesce(s.termine_unentschuldigt, 0) as termine_unentschuldigt,
        coalesce(s.stunden_anwesend, 0)::decimal(12, 2) as stunden_anwesend,
        (coalesce(s.termine, 0) * b.session_hours)::decimal(12, 2) as stunden_geplant,
        coalesce(a.bewerbungen, 0) as bewerbungen,
        coalesce(a.vorstellungsgespraeche, 0) as vorstellungsgespraeche,
        coalesce(a.arbeitgeberkontakte, 0) as arbeitgeberkontakte,
        coalesce(a.beratungen, 0) as beratungen,
        i.erste_integration_datum,
        i.erste_integration_art,
        -- "found a job within the 8 weeks": the job starts by the day after leaving
        -- (people leave the programme the day before their first working day)
        coalesce(
            i.erste_integration_datum <= w.austritt + interval 1 day,
            i.erste_integration_datum is not null
        ) as integriert_waehrend,
        i.erste_integration_datum is not null as integriert_bis_28_tage,
        -- only a closed 28-day window gives a final verdict on integration
        w.austritt + interval 28 day <= b.as_of as integrationsfenster_geschlossen,
        -- exits only; null while the participation runs
        case when w.austritt is not null then coalesce(l.beschaeftigt_bei_austritt, false) end
            as beschaeftigt_bei_austritt,
        w.austritt + interval 6 month <= b.as_of as verbleib_faellig,
        f.verbleib_status,
        coalesce(f.verbleib_status in ('svb_beschaeftigt', 'ausbildung', 'selbststaendig'), false)
            as verbleib_beschaeftigt
    from windows as w
    cross join build as b
    left join sessions as s on s.teilnahme_id = w.teilnahme_id
    left join activities as a on a.teilnahme_id = w.teilnahme_id
    left join integrations as i on i.teilnahme_id = w.teilnahme_id
    left join leaving as l on l.teilnahme_id = w.teilnahme_id
    left join followups as f on f.teilnahme_id = w.teilnahme_id
)

select * from final
