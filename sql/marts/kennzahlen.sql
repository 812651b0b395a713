-- The headline KPIs with numerator, denominator and window (docs/kpis.md), for the current
-- 12 months and, as a baseline, the same 12 months a year earlier (periode 'vorjahr').
-- Windows end at the reference date: the data's as-of date, or one year before it;
-- "12 months" means (stichtag - 12 months, stichtag]. The baseline uses today's data,
-- so late deliveries and follow-ups improve it rather than freeze an old, partial view.
--
-- One definition serves both uses: the table macro kennzahlen_fuer() computes the KPIs for
-- a selection of participations (marts.auswahl, the dashboard's filters), and the mart
-- marts.kennzahlen is the same macro for the whole programme.
create or replace macro marts.kennzahlen_fuer(
    p_von, p_bis, p_standort, p_coach, p_kohorte, p_geschlecht, p_lzb
) as table
with

teilnahmen as (
    select * from marts.auswahl(p_von, p_bis, p_standort, p_coach, p_kohorte, p_geschlecht, p_lzb)
),

-- the selection's people first: the date-range test below then meets only their outcomes
personen as (
    select distinct pid from teilnahmen
),

-- persons retention deleted, by month of first entry and of first integration; only the
-- whole programme includes them, a filtered view covers retained people only
archiv_personen as (
    select * from meta.archiv_personen
    where p_von is null and p_bis is null and p_standort is null and p_coach is null
        and p_kohorte is null and p_geschlecht is null and p_lzb is null
),

build as (
    select as_of, session_hours from meta.build
),

stichtage as (
    select 'aktuell' as periode, as_of as stichtag from build
    union all
    select 'vorjahr', (as_of - interval 12 month)::date from build
),

periods as (
    select
        periode,
        stichtag,
        (stichtag - interval 12 month)::date as window_start
    from stichtage
),

-- deleted persons counted by each reference date (month of first entry / integration)
archiv_stand as (
    select
        p.periode,
        coalesce(sum(a.eingetreten), 0) as eingetreten,
        coalesce(sum(a.integriert), 0) as integriert
    from periods as p
    left join archiv_personen as a on a.monat <= p.stichtag
    group by p.periode
),

-- outcomes in the window of one of the person's participations
outcomes as (
    select e.*
    from staging.stg_ergebnisse as e
    semi join personen as p on p.pid = e.pid
    where exists (
        select 1 from teilnahmen as t
        where t.pid = e.pid
            and e.datum between t.eintritt and coalesce(t.austritt + interval 28 day, e.datum)
    )
),

-- sessions and activities of the selection, summed per period: the event groups of
-- marts.ereignis_summen with at least one selected participation
gewaehlte_gruppen as (
    select distinct g.gruppe
    from marts.ereignis_gruppen as g
    semi join teilnahmen as t on t.teilnahme_id = g.teilnahme_id
),

ereignis_summen as (
    select
        p.periode,
        coalesce(sum(e.termine), 0) as termine,
        coalesce(sum(e.stunden), 0) as stunden,
        coalesce(sum(e.unentschuldigt), 0) as unentschuldigt,
        coalesce(sum(e.bewerbungen), 0) as bewerbungen,
        coalesce(sum(e.vorstellungsgespraeche), 0) as vorstellungsgespraeche,
        coalesce(sum(e.arbeitgeberkontakte), 0) as arbeitgeberkontakte
    from periods as p
    left join (
        select s.*
        from marts.ereignis_summen as s
        semi join gewaehlte_gruppen as g on g.gruppe = s.gruppe
    ) as e on e.periode = p.periode
    group by p.periode
),

kpis as (
    select
        p.periode,
        'aktive_teilnehmende' as kennzahl,
        count(t.teilnahme_id) as zaehler,
        null::bigint as nenner,
        p.stichtag as fenster_von
    from periods as p
    left join teilnahmen as t
        on t.eintritt <= p.stichtag and coalesce(t.austritt, p.stichtag) >= p.stichtag
    group by all

    union all
    select p.periode, 'eintritte_12m', count(t.teilnahme_id), null, p.window_start
    from periods as p
    left join teilnahmen as t on t.eintritt > p.window_start and t.eintritt <= p.stichtag
    group by all

    union all
    select p.periode, 'austritte_12m', count(t.teilnahme_id), null, p.window_start
    from periods as p
    left join teilnahmen as t on t.austritt > p.window_start and t.austritt <= p.stichtag
    group by all

    union all
    -- exits whose 28-day window closed in the 12 months: integrated within it, and (ESF
    -- "upon leaving") employed by their last outcome in it
    select
        p.periode,
        k.kennzahl,
        count(t.teilnahme_id) filter (
            where case k.kennzahl
                when 'integrationsquote' then t.integriert_bis_28_tage
                else t.beschaeftigt_bei_austritt
            end
        ),
        count(t.teilnahme_id),
        (p.window_start - interval 28 day)::date
    from periods as p
    cross join (values ('integrationsquote'), ('beschaeftigt_bei_austritt')) as k(kennzahl)
    left join teilnahmen as t
        on t.austritt + interval 28 day > p.window_start
        and t.austritt + interval 28 day <= p.stichtag
    group by all

    union all
    -- persons (not participations) with an integration since the programme started
    select
        p.periode,
        'in_arbeit_seit_start',
        count(distinct t.pid) filter (where t.erste_integration_datum <= p.stichtag)
            + any_value(a.integriert),
        count(distinct t.pid) + any_value(a.eingetreten),
        (select min(eintritt) from teilnahmen)
    from periods as p
    inner join archiv_stand as a using (periode)
    left join teilnahmen as t on t.eintritt <= p.stichtag
    group by all

    union all
    select
        p.periode,
        'anwesenheitsquote',
        e.stunden,
        e.termine * b.session_hours,
        p.window_start
    from periods as p
    cross join build as b
    inner join ereignis_summen as e using (periode)

    union all
    select
        p.periode,
        'abbruchquote',
        count(t.teilnahme_id) filter (where t.austrittsgrund = 'abbruch'),
        count(t.teilnahme_id),
        p.window_start
    from periods as p
    left join teilnahmen as t on t.austritt > p.window_start and t.austritt <= p.stichtag
    group by all

    union all
    -- Eingliederungsquote-style: exits whose follow-up came due in the 12 months;
    -- a missing follow-up counts as not employed
    select
        p.periode,
        'verbleibsquote_6m',
        count(t.teilnahme_id) filter (where t.verbleib_beschaeftigt),
        count(t.teilnahme_id),
        (p.window_start - interval 6 month)::date
    from periods as p
    left join teilnahmen as t
        on t.austritt + interval 6 month > p.window_start
        and t.austritt + interval 6 month <= p.stichtag
    group by all
),

-- time to first integration (Kaplan-Meier) of the participations entering in the window,
-- observed until the reference date: see marts.integrationsverlauf for the censoring
km_observed as (
    select
        p.periode,
        coalesce(t.erste_integration_datum <= p.stichtag, false) as ereignis,
        datediff(
            'day',
            t.eintritt,
            case
                when t.erste_integration_datum <= p.stichtag then t.erste_integration_datum
                else least(coalesce(t.austritt + interval 28 day, p.stichtag), p.stichtag)
            end
        ) as tage
    from periods as p
    inner join teilnahmen as t on t.eintritt > p.window_start and t.eintritt <= p.stichtag
),

km_steps as (
    select
        periode,
        tage,
        1 - count(*) filter (where ereignis) / sum(count(*)) over (
            partition by periode order by tage desc
            rows between unbounded preceding and current row
        ) as faktor
    from km_observed
    group by periode, tage
),

km_survival as (
    select
        periode,
        tage,
        case
            when min(faktor) over w = 0 then 0.0
            else exp(sum(ln(faktor)) over w)
        end as ueberlebend
    from km_steps
    window w as (
        partition by periode order by tage rows between unbounded preceding and current row
    )
),

outcome_kpis as (
    -- K2: integrations, at most one per person and calendar month
    select
        p.periode,
        'integrationen_k2',
        count(distinct (o.pid, date_trunc('month', o.datum))) filter (
            where o.art in ('svb_beschaeftigung', 'ausbildung', 'selbststaendigkeit')
        ),
        null,
        p.window_start
    from periods as p
    left join outcomes as o on o.datum > p.window_start and o.datum <= p.stichtag
    group by all

    union all
    select
        p.periode,
        k.kennzahl,
        count(o.pid) filter (where o.art = k.art),
        null,
        p.window_start
    from periods as p
    cross join (
        values
            ('minijobs_12m', 'minijob'),
            ('gefoerderte_12m', 'gefoerderte_beschaeftigung'),
            ('praktika_12m', 'praktikum'),
            ('weiterbildungen_12m', 'weiterbildung')
    ) as k(kennzahl, art)
    left join outcomes as o on o.datum > p.window_start and o.datum <= p.stichtag
    group by all

    union all
    -- per participant-week: three scheduled sessions make one week of participation
    select
        p.periode,
        k.kennzahl,
        case k.kennzahl
            when 'bewerbungen_je_woche' then e.bewerbungen
            when 'vorstellungsgespraeche_je_woche' then e.vorstellungsgespraeche
            else e.arbeitgeberkontakte
        end,
        e.termine / 3,
        p.window_start
    from periods as p
    inner join ereignis_summen as e using (periode)
    cross join (
        values
            ('bewerbungen_je_woche'),
            ('vorstellungsgespraeche_je_woche'),
            ('arbeitgeberkontakte_je_woche')
    ) as k(kennzahl)

    union all
    -- median days to first integration: the first day the curve reaches one half;
    -- null while it has not (the denominator is the number of participations observed)
    select
        p.periode,
        'tage_bis_integration',
        (
            select min(s.tage) from km_survival as s
            where s.periode = p.periode and s.ueberlebend <= 0.5
        ),
        (select count(*) from km_observed as o where o.periode = p.periode),
        p.window_start
    from periods as p

    union all
    select
        p.periode,
        'unentschuldigt_quote',
        e.unentschuldigt,
        e.termine,
        p.window_start
    from periods as p
    inner join ereignis_summen as e using (periode)
),

all_kpis as (
    select * from kpis
    union all
    select * from outcome_kpis
),

final as (
    select
        k.kennzahl,
        k.periode,
        k.zaehler::decimal(18, 4) as zaehler,
        k.nenner::decimal(18, 4) as nenner,
        -- a median is a value of its own, not a share of its denominator
        case
            when k.kennzahl <> 'tage_bis_integration' and k.nenner > 0
                then round(k.zaehler / k.nenner, 4)
        end as quote,
        k.fenster_von::date as fenster_von,
        p.stichtag as fenster_bis
    from all_kpis as k
    inner join periods as p using (periode)
)

select * from final;

create or replace table marts.kennzahlen as
select * from marts.kennzahlen_fuer(null, null, null, null, null, null, null);
