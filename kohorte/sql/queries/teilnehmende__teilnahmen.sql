-- access: participant
-- One person's participations within the selection (for a coach: her own only).
select
    teilnahme_id,
    eintritt,
    austritt,
    austrittsgrund,
    coach,
    standort,
    termine,
    termine_anwesend,
    termine_unentschuldigt,
    erste_integration_datum,
    erste_integration_art,
    verbleib_status
from marts.auswahl({filter_args})
where pid = $pid
order by eintritt
