-- The headline KPIs with numerator, denominator and window (docs/kpis.md), for each period
-- of meta.kpi_periods: the current 12 months ('aktuell') and the programme year so far
-- ('programmjahr'), each with the same span a year earlier as its baseline ('vorjahr',
-- 'programmjahr_vorjahr'). Windows end at the reference date: the data's as-of date, or
-- one year before it; "12 months" means (stichtag - 12 months, stichtag]. The baseline
-- uses today's data, so late deliveries and follow-ups improve it rather than freeze an
-- old, partial view.
--
-- The KPIs themselves (all_kpis) are generated from their one definition each in
-- kohorte/define/kpis.py; this template holds what they share: the selection, the periods, the
-- facts and the Kaplan-Meier curve. The table macro kennzahlen_fuer() computes them for a
-- selection of participations (marts.auswahl, the dashboard's filters), and the mart
-- marts.kennzahlen is the same macro for the whole programme.
create or replace macro marts.kennzahlen_fuer({filter_params}) as table
with

teilnahmen as (
    select * from marts.auswahl({filter_params})
),

-- the participation-months of the selection: the sessions, activities and outcomes its
-- participations own, in parts that each lie inside or outside every period's window
monate as (
    select m.*
    from marts.teilnahme_monate as m
    semi join teilnahmen as t on t.teilnahme_id = m.teilnahme_id
),

-- persons retention deleted, by month of first entry and of first integration; only the
-- whole programme includes them, a filtered view covers retained people only
archive_personen as (
    select * from meta.archive_personen
    where {whole_programme}
),

build as (
    select as_of, session_hours, programme_year_month from meta.build
),

-- each period's reference date: the as-of date, or one year before it for a baseline
-- (meta.kpi_periods, from kohorte/define/periods.py)
stichtage as (
    select
        z.periode,
        z.rollierend,
        (b.as_of - to_months(12 * z.jahre_zurueck))::date as stichtag
    from meta.kpi_periods as z
    cross join build as b
),

-- each period's window (window_start, stichtag]: 12 months back from the reference date
-- for the rolling periods, else the programme year to it (it starts on the first of
-- KOHORTE_PROGRAMME_YEAR_START's month on or before the reference date; the
-- programme-year KPIs use that start in every period)
programme_years as (
    select
        s.*,
        make_date(
            year(s.stichtag) - (month(s.stichtag) < b.programme_year_month)::integer,
            b.programme_year_month,
            1
        ) as programmjahr_start
    from stichtage as s
    cross join build as b
),

periods as (
    select
        periode,
        stichtag,
        case
            when rollierend then (stichtag - interval 12 month)::date
            else (programmjahr_start - interval 1 day)::date
        end as window_start,
        programmjahr_start
    from programme_years
),

-- deleted persons counted by each reference date (month of first entry / integration)
archive_stand as (
    select
        p.periode,
        coalesce(sum(a.eingetreten), 0) as eingetreten,
        coalesce(sum(a.integriert), 0) as integriert,
        coalesce(sum(a.integriert) filter (where a.monat >= p.programmjahr_start), 0)
            as integriert_programmjahr
    from periods as p
    left join archive_personen as a on a.monat <= p.stichtag
    group by p.periode
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

-- the product of the factors so far, rounded to 12 places: a curve that reaches exactly
-- one half stores 0.5, not 0.4999999999999999
km_survival as (
    select
        periode,
        tage,
        round(product(faktor) over w, 12) as ueberlebend
    from km_steps
    window w as (
        partition by periode order by tage rows between unbounded preceding and current row
    )
),

all_kpis as (
    {kpi_selects}
),

final as (
    select
        k.kennzahl,
        k.periode,
        k.zaehler::decimal(18, 4) as zaehler,
        k.nenner::decimal(18, 4) as nenner,
        -- a median is a value of its own, not a share of its denominator
        case
            when k.kennzahl not in ({median_kpis}) and k.nenner > 0
                then round(k.zaehler / k.nenner, 4)
        end as quote,
        k.fenster_von::date as fenster_von,
        p.stichtag as fenster_bis,
        -- the first day of the period's span (its 12 months or its programme year)
        (p.window_start + interval 1 day)::date as zeitraum_von
    from all_kpis as k
    inner join periods as p using (periode)
)

select * from final;

create or replace table marts.kennzahlen as
select * from marts.kennzahlen_fuer({whole_programme_args});
