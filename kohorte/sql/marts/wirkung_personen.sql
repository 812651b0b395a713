-- The impact estimate's persons (kohorte.build.wirkung reads them): every participation
-- whose six-month follow-up is due and known, and every comparison person who is not a
-- participant, with the attributes both may share and whether they were in work at the
-- follow-up (the rule of the follow-up KPIs, marts.ereignisse).
create or replace table marts.wirkung_personen as
with

build as (
    select default_site from meta.build
),

teilnahmen as (
    select * from marts.teilnahmen
),

-- the attributes of a participation come from its latest delivery (staging)
merkmale as (
    select pid, eintritt, merkmale from staging.stg_teilnehmende
),

vergleich as (
    select * from staging.stg_vergleichsgruppe
),

participants as (
    select
        'teilnahme' as gruppe,
        t.pid,
        t.standort,
        year(t.eintritt) as jahr,
        t.eintritt as stichtag,
        t.geschlecht,
        t.alter_bei_eintritt as alter,
        t.langzeitleistungsbezug,
        t.berufsabschluss,
        m.merkmale,
        t.verbleib_beschaeftigt as in_arbeit,
        datediff('day', t.eintritt, t.verbleib_stichtag) as tage_bis_verbleib
    from teilnahmen as t
    inner join merkmale as m on m.pid = t.pid and m.eintritt = t.eintritt
    where t.verbleib_faellig and t.verbleib_status is not null
),

comparison as (
    select
        'vergleich' as gruppe,
        v.pid,
        coalesce(v.standort, b.default_site) as standort,
        year(v.stichtag) as jahr,
        v.stichtag,
        v.geschlecht,
        -- the age as for a participation: year of the reference date less year of birth
        year(v.stichtag) - v.geburtsjahr as alter,
        v.langzeitleistungsbezug,
        v.berufsabschluss,
        v.merkmale,
        v.verbleib_status in ({in_work_at_follow_up}) as in_arbeit,
        datediff('day', v.stichtag, v.verbleib_stichtag) as tage_bis_verbleib
    from vergleich as v
    cross join build as b
    -- a comparison person who also takes part is no comparison (counted by the estimate)
    where v.pid not in (select pid from teilnahmen)
)

select * from participants
union all by name
select * from comparison
