-- access: aggregate
-- Headline KPIs of the selection with their windows and the same window a year earlier,
-- in catalogue order (the filters reach marts.kennzahlen_fuer as arguments).
with

kpis as (
    select * from marts.kennzahlen_fuer({filter_args})
)

select
    k.kennzahl,
    c.bezeichnung,
    c.einheit,
    k.zaehler,
    k.nenner,
    k.quote,
    k.fenster_von,
    k.fenster_bis,
    v.zaehler as vorjahr_zaehler,
    v.nenner as vorjahr_nenner,
    v.quote as vorjahr_quote,
    (select count(*) from marts.auswahl({filter_args})) as auswahl_teilnahmen,
    -- a baseline is only meaningful if the programme ran through its whole window
    v.fenster_bis - interval 12 month >= (
        select least(min(eintritt), (select min(monat) from meta.archive_personen))
        from marts.teilnahmen
    ) as vorjahr_vollstaendig
from kpis as k
inner join meta.kpi_catalogue as c using (kennzahl)
left join kpis as v on v.kennzahl = k.kennzahl and v.periode = 'vorjahr'
where k.periode = 'aktuell'
order by c.position
