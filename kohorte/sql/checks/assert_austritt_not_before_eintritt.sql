-- de: Kein Austritt liegt vor seinem Eintritt
-- en: No exit lies before its entry
-- A participation cannot end before it starts (the loader rejects such lines).
select teilnahme_id, eintritt, austritt
from marts.teilnahmen
where austritt < eintritt
