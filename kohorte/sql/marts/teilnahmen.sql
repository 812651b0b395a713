-- One row per participation with everything the KPIs need (the facts at participation
-- grain): attendance, activities, first integration, follow-up. Each event counts for the
-- participation that owns it (marts.fenster), so every sum over a selection adds up.
-- incremental: per person
create or replace table marts.teilnahmen as
with

teilnahmen as (
    select * from staging.stg_teilnehmende
),

fenster as (
    select * from marts.fenster
),

-- events with the participation that owns them (the rule of marts.fenster)
ereignisse as (
    select * from marts.ereignisse where teilnahme_id is not null
),

build as (
    select as_of, session_hours, default_site from meta.build
),

windows as (
    select t.*, f.teilnahme_id
    from teilnahmen as t
    inner join fenster as f on f.pid = t.pid and f.eintritt = t.eintritt
),

sessions as (
    select
        teilnahme_id,
        count(*) as termine,
        count(*) filter (where art = 'anwesend') as termine_anwesend,
        count(*) filter (where art = 'entschuldigt') as termine_entschuldigt,
        count(*) filter (where art = 'unentschuldigt') as termine_unentschuldigt,
        sum(stunden_angerechnet) as stunden_anwesend
    from ereignisse
    where quelle = 'anwesenheit'
    group by teilnahme_id
),

activities as (
    select
        teilnahme_id,
        coalesce(sum(wert) filter (where art = 'bewerbung'), 0) as bewerbungen,
        coalesce(sum(wert) filter (where art = 'vorstellungsgespraech'), 0)
            as vorstellungsgespraeche,
        coalesce(sum(wert) filter (where art = 'arbeitgeberkontakt'), 0) as arbeitgeberkontakte,
        coalesce(sum(wert) filter (where art = 'beratung'), 0) as beratungen
    from ereignisse
    where quelle = 'aktivitaet'
    group by teilnahme_id
),

outcomes as (
    select
        teilnahme_id,
        -- the first integration; on one day, the first art by name (a fixed tie rule)
        min(e.datum) filter (where e.ist_integration) as erste_integration_datum,
        first(e.art order by e.datum, e.art) filter (where e.ist_integration)
            as erste_integration_art,
        -- ESF "upon leaving": the last outcome decides; outcomes on the same last day
        -- count as employed if one of them is a job
        first(e.ist_beschaeftigung order by e.datum desc, e.ist_beschaeftigung desc)
            as letztes_ergebnis_beschaeftigung,
        -- an internship or further training starting between entry and exit
        count(*) filter (
            where e.art in ('praktikum', 'weiterbildung') and e.datum <= f.austritt
        ) > 0 as praktikum_oder_weiterbildung
    from ereignisse as e
    inner join fenster as f using (teilnahme_id)
    where e.quelle = 'ergebnis'
    group by teilnahme_id
),

followups as (
    -- the follow-up nearest to six calendar months after exit; of two equally near, the
    -- earlier one
    select
        e.teilnahme_id,
        e.art as verbleib_status,
        e.datum as verbleib_stichtag,
        e.ist_verbleib_beschaeftigt as verbleib_beschaeftigt
    from ereignisse as e
    inner join windows as w on w.teilnahme_id = e.teilnahme_id
    where e.quelle = 'verbleib'
    qualify row_number() over (
        partition by e.teilnahme_id
        order by abs(datediff('day', w.austritt + interval 6 month, e.datum)), e.datum
    ) = 1
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
        -- attended share of this participation's planned hours (the KPI's rule, per row)
        case when s.termine > 0 then s.stunden_anwesend / (s.termine * b.session_hours) end
            as anwesenheit_anteil,
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
        case when w.austritt is not null then coalesce(i.letztes_ergebnis_beschaeftigung, false) end
            as beschaeftigt_bei_austritt,
        coalesce(i.praktikum_oder_weiterbildung, false) as praktikum_oder_weiterbildung,
        w.austritt + interval 6 month <= b.as_of as verbleib_faellig,
        f.verbleib_status,
        f.verbleib_stichtag,
        coalesce(f.verbleib_beschaeftigt, false) as verbleib_beschaeftigt,
        -- a person counts once among persons: at her first participation, and as in work
        -- at the participation that owns her first integration
        w.eintritt = min(w.eintritt) over (partition by w.pid) as erste_teilnahme_der_person,
        coalesce(
            i.erste_integration_datum
            = min(i.erste_integration_datum) over (partition by w.pid),
            false
        ) as erste_integration_der_person
    from windows as w
    cross join build as b
    left join sessions as s on s.teilnahme_id = w.teilnahme_id
    left join activities as a on a.teilnahme_id = w.teilnahme_id
    left join outcomes as i on i.teilnahme_id = w.teilnahme_id
    left join followups as f on f.teilnahme_id = w.teilnahme_id
)

select * from final
