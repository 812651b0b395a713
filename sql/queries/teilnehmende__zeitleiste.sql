-- access: participant
-- One person's events (sessions, activities, outcomes, follow-ups), oldest first.
select datum, quelle, art, wert
from marts.ereignisse
where pid = $pid
order by datum, quelle
