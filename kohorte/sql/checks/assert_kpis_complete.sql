-- de: Jede Kennzahl ist für jeden Zeitraum berechnet
-- en: Every KPI is computed for every period
-- Every KPI of the catalogue (kohorte/define/kpis.py) was computed for every period
-- (meta.kpi_periods, from kohorte/define/periods.py), and nothing else.
with

expected as (
    select k.kennzahl, p.periode
    from meta.kpi_catalogue as k
    cross join meta.kpi_periods as p
)

select coalesce(e.kennzahl, m.kennzahl) as kennzahl, coalesce(e.periode, m.periode) as periode
from expected as e
full outer join marts.kennzahlen as m using (kennzahl, periode)
where e.kennzahl is null or m.kennzahl is null
