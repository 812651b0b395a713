-- Every KPI of the catalogue (kohorte/kpis.py) was computed, and nothing else.
select coalesce(k.kennzahl, m.kennzahl) as kennzahl
from meta.kpi_katalog as k
full outer join marts.kennzahlen as m on m.kennzahl = k.kennzahl
where k.kennzahl is null or m.kennzahl is null
