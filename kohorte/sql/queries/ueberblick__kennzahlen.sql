-- access: aggregate
-- Headline KPIs of the selection for one period ($periode) and its baseline, the same span
-- a year earlier ($vergleich), in catalogue order (the filters reach
-- marts.kennzahlen_fuer as arguments, and so does a calendar span; the periods:
-- kohorte/define/periods.py).
with

kpis as (
    select * from marts.kennzahlen_fuer({filter_args}{span_args})
)

select
    k.kennzahl,
    k.periode,
    c.bezeichnung,
    c.einheit,
    k.zaehler,
    k.nenner,
    k.quote,
    k.fenster_von,
    k.fenster_bis,
    k.zeitraum_von,
    v.zaehler as vorjahr_zaehler,
    v.nenner as vorjahr_nenner,
    v.quote as vorjahr_quote,
    (select count(*) from marts.auswahl({filter_args})) as auswahl_teilnahmen,
    -- a baseline is only meaningful if the programme ran through its whole span
    v.zeitraum_von > (
        select least(min(eintritt), (select min(monat) from meta.archive_personen))
        from marts.teilnahmen
    ) as vorjahr_vollstaendig
from kpis as k
inner join meta.kpi_catalogue as c using (kennzahl)
left join kpis as v on v.kennzahl = k.kennzahl and v.periode = $vergleich
where k.periode = $periode
order by c.position
