-- access: participant
-- The participations of the selection, pseudonymised, newest entry first.
select
    t.pid,
    t.eintritt,
    t.austritt,
    t.austrittsgrund,
    t.coach,
    t.standort,
    t.anwesenheit_anteil,
    t.bewerbungen,
    t.vorstellungsgespraeche,
    t.erste_integration_datum,
    t.erste_integration_art
from marts.auswahl({filter_args}) as t
order by t.eintritt desc, t.pid
limit 500
