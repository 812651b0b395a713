-- de: Jede Kennzahl ist für beide Zeiträume berechnet
-- en: Every KPI is computed for both periods
-- Every KPI of the catalogue (kohorte/define/kpis.py) was computed for both periods, and nothing else.
with

expected as (
    select k.kennzahl, p.periode
    from meta.kpi_catalogue as k
    cross join (values ('aktuell'), ('vorjahr')) as p(periode)
)

select coalesce(e.kennzahl, m.kennzahl) as kennzahl, coalesce(e.periode, m.periode) as periode
from expected as e
full outer join marts.kennzahlen as m using (kennzahl, periode)
where e.kennzahl is null or m.kennzahl is null
