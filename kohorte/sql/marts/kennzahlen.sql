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
-- marts.kennzahlen is the same macro for the whole programme. Given ``span_start`` and
-- ``span_end`` (not the filters' von/bis, which select by entry date), the macro computes
-- them for that calendar span instead (a month's report, a year's
-- balance: kohorte.define.periods.SPAN), and for the same span a year earlier.

-- the first day of the programme year a date lies in: the first of
-- KOHORTE_PROGRAMME_YEAR_START's month on or before it
create or replace macro marts.programmjahr_start(tag) as make_date(
    year(tag) - (month(tag) < (select programme_year_month from meta.build))::integer,
    (select programme_year_month from meta.build),
    1
);

-- the stored periods (meta.kpi_periods, from kohorte/define/periods.py) with their windows
-- (window_start, stichtag]: each reference date is the as-of date, or one year before it
-- for a baseline; 12 months back from it for the rolling periods, else the programme year
-- to it (the programme-year KPIs use that start in every period)
create or replace view marts.kpi_zeitraeume as
with stichtage as (
    select
        z.periode,
        z.rollierend,
        (b.as_of - to_months(12 * z.jahre_zurueck))::date as stichtag
    from meta.kpi_periods as z
    cross join meta.build as b
)
select
    periode,
    stichtag,
    case
        when rollierend then (stichtag - interval 12 month)::date
        else (marts.programmjahr_start(stichtag) - interval 1 day)::date
    end as window_start,
    marts.programmjahr_start(stichtag) as programmjahr_start
from stichtage;

-- a calendar span [von, bis] as a period (its end no later than the as-of date: nothing
-- after it is known) and the same span a year earlier as its baseline
create or replace macro marts.zeitraum_von_bis(von, bis) as table
-- (columns named apart from the parameters: inside a macro a parameter shadows a column)
with span as (
    select von::date as anfang, least(bis::date, (select as_of from meta.build)) as ende
),
named as (
    select '{span_current}' as periode, anfang, ende from span
    union all
    select '{span_baseline}', (anfang - interval 1 year)::date, (ende - interval 1 year)::date
    from span
)
select
    periode,
    ende as stichtag,
    (anfang - interval 1 day)::date as window_start,
    marts.programmjahr_start(ende) as programmjahr_start
from named;

create or replace macro marts.kennzahlen_fuer({filter_params}, span_start := null, span_end := null) as table
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

-- each period's window (window_start, stichtag] and its programme year's start: the
-- stored periods, or the span and its baseline
periods as (
    select * from marts.kpi_zeitraeume where span_start is null
    union all
    select * from marts.zeitraum_von_bis(span_start, span_end) where span_start is not null
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
