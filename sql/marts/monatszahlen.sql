-- Monthly figures from the first entry to the data's as-of month: the basis of every trend
-- and of the monthly rates (numerator and denominator per month, with what can still change).
--
-- As with the KPIs, the table macro monatszahlen_fuer() serves a selection of
-- participations (marts.auswahl) and marts.monatszahlen is the same for the whole programme.
-- Exits are counted in the month of exit; their outcomes (28 days) and follow-up
-- (6 months) arrive later, so a month stays provisional until the last of them is due.
-- For the whole programme (no filter) the figures of participations that retention has
-- deleted are added from meta.archiv_monatszahlen, so the totals stay as published; a
-- filtered view covers the retained participations only.
create or replace macro marts.monatszahlen_fuer({filter_params}) as table
with

teilnahmen as (
    select * from marts.auswahl({filter_params})
),

alle as (
    select * from marts.teilnahmen
),

-- sessions of the selection: the months of its participations (the events each owns)
monate as (
    select m.*
    from marts.teilnahme_monate as m
    semi join teilnahmen as t on t.teilnahme_id = m.teilnahme_id
),

build as (
    select as_of, session_hours from meta.build
),

archiv as (
    select *
    from meta.archiv_monatszahlen
    where {whole_programme}
),

-- the months of the whole programme, so a selection gets the same x-axis
months as (
    select unnest(generate_series(
        least(
            (select min(eintritt_monat) from alle),
            (select min(monat) from meta.archiv_monatszahlen)
        ),
        (select date_trunc('month', as_of)::date from build),
        interval 1 month
    ))::date as monat
),

entries as (
    select eintritt_monat as monat, count(*) as eintritte
    from teilnahmen
    group by 1
),

exits as (
    select
        austritt_monat as monat,
        count(*) as austritte,
        count(*) filter (where austrittsgrund = 'abbruch') as abbrueche,
        count(*) filter (where integriert_bis_28_tage) as austritte_integriert,
        count(*) filter (where beschaeftigt_bei_austritt) as austritte_beschaeftigt,
        count(*) filter (where not integrationsfenster_geschlossen) as austritte_fenster_offen,
        count(*) filter (where verbleib_beschaeftigt) as verbleib_beschaeftigt,
        count(*) filter (where not verbleib_faellig) as verbleib_offen
    from teilnahmen
    where austritt is not null
    group by 1
),

active as (
    select
        m.monat,
        count(t.teilnahme_id) as aktive_am_monatsende
    from months as m
    left join teilnahmen as t
        on t.eintritt <= last_day(m.monat)
        and coalesce(t.austritt, date '9999-12-31')
            >= least(last_day(m.monat), (select as_of from build))
    group by 1
),

attendance as (
    select
        e.monat,
        sum(e.stunden) as stunden_anwesend,
        sum(e.termine) * any_value(b.session_hours) as stunden_geplant,
        sum(e.unentschuldigt) as termine_unentschuldigt,
        sum(e.termine) as termine
    from monate as e
    cross join build as b
    where e.termine > 0  -- months with activities only have no attendance row
    group by 1
),

retained as (
    select
        m.monat,
        -- the running month is incomplete: everything in it can still change
        m.monat = (select date_trunc('month', as_of)::date from build) as laufender_monat,
        coalesce(e.eintritte, 0) as eintritte,
        coalesce(x.austritte, 0) as austritte,
        coalesce(x.abbrueche, 0) as abbrueche,
        coalesce(x.austritte_integriert, 0) as austritte_integriert,
        coalesce(x.austritte_beschaeftigt, 0) as austritte_beschaeftigt,
        coalesce(x.austritte_fenster_offen, 0) as austritte_fenster_offen,
        coalesce(x.verbleib_beschaeftigt, 0) as verbleib_beschaeftigt,
        coalesce(x.verbleib_offen, 0) as verbleib_offen,
        coalesce(a.aktive_am_monatsende, 0) as aktive_am_monatsende,
        coalesce(t.termine, 0) as termine,
        coalesce(t.termine_unentschuldigt, 0) as termine_unentschuldigt,
        coalesce(t.stunden_anwesend, 0)::decimal(12, 2) as stunden_anwesend,
        coalesce(t.stunden_geplant, 0)::decimal(12, 2) as stunden_geplant
    from months as m
    left join entries as e on e.monat = m.monat
    left join exits as x on x.monat = m.monat
    left join active as a on a.monat = m.monat
    left join attendance as t on t.monat = m.monat
),

final as (
    select
        r.monat,
        r.laufender_monat,
        (r.eintritte + coalesce(z.eintritte, 0))::bigint as eintritte,
        (r.austritte + coalesce(z.austritte, 0))::bigint as austritte,
        (r.abbrueche + coalesce(z.abbrueche, 0))::bigint as abbrueche,
        (r.austritte_integriert + coalesce(z.austritte_integriert, 0))::bigint
            as austritte_integriert,
        (r.austritte_beschaeftigt + coalesce(z.austritte_beschaeftigt, 0))::bigint
            as austritte_beschaeftigt,
        (r.austritte_fenster_offen + coalesce(z.austritte_fenster_offen, 0))::bigint
            as austritte_fenster_offen,
        (r.verbleib_beschaeftigt + coalesce(z.verbleib_beschaeftigt, 0))::bigint
            as verbleib_beschaeftigt,
        (r.verbleib_offen + coalesce(z.verbleib_offen, 0))::bigint as verbleib_offen,
        (r.aktive_am_monatsende + coalesce(z.aktive_am_monatsende, 0))::bigint
            as aktive_am_monatsende,
        (r.termine + coalesce(z.termine, 0))::bigint as termine,
        (r.termine_unentschuldigt + coalesce(z.termine_unentschuldigt, 0))::bigint
            as termine_unentschuldigt,
        (r.stunden_anwesend + coalesce(z.stunden_anwesend, 0))::decimal(12, 2)
            as stunden_anwesend,
        (r.stunden_geplant + coalesce(z.stunden_geplant, 0))::decimal(12, 2)
            as stunden_geplant
    from retained as r
    left join archiv as z on z.monat = r.monat
)

select * from final
order by monat;

create or replace table marts.monatszahlen as
select * from marts.monatszahlen_fuer({whole_programme_args});
