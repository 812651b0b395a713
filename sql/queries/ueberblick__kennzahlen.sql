-- Headline KPIs with their windows, in catalogue order.
select
    k.kennzahl,
    c.bezeichnung,
    c.einheit,
    k.zaehler,
    k.nenner,
    k.quote,
    k.fenster_von,
    k.fenster_bis
from marts.kennzahlen as k
inner join meta.kpi_katalog as c using (kennzahl)
order by c.position
